-- wrk script: print one JSON line with throughput, latency percentiles (ms) and errors.
-- Non-2xx/3xx responses are counted by wrk as errors.status.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.3f, "rps": %.2f, "mean_ms": %.3f, "p50_ms": %.3f, ' ..
    '"p90_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, seconds, summary.requests / seconds, latency.mean / 1e3,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout))
end
