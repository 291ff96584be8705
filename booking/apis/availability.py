import hashlib
import threading
import time
from datetime import date, timedelta

from cachetools import TLRUCache
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from booking.availability import AvailabilitySnapshot, availability_snapshot, availability_versions
from booking.dates import validate_date_window
from booking.selectors import location_get, products_by_codes

from .errors import SlotSerializer


def _request_days(query) -> list[date] | None:
    """The days a query asks for, with the view's defaults and without past days; None when its
    dates do not parse or the range is too long (the full view answers that with a 400)."""
    today = timezone.localdate()
    try:
        date_from = date.fromisoformat(query["date_from"]) if query.get("date_from") else today
        date_to = date.fromisoformat(query["date_to"]) if query.get("date_to") else date_from + timedelta(days=13)
    except ValueError:
        return None
    if not 0 <= (date_to - date_from).days < settings.BOOKING_MAX_RANGE_DAYS:
        return None
    date_from = max(date_from, today)
    return [date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1)]


def _request_query(query) -> tuple[str, str | None, list[date]] | None:
    """The raw query (products sorted, defaults spelled out), its location and its days; None
    when the full view would answer it with a 400."""
    days = _request_days(query)
    if days is None:
        return None
    location = query.get("location") or None
    raw = "|".join(
        [
            ",".join(sorted(query.getlist("product"))),
            query.get("persons") or "1",
            location or "*",
            query.get("date_from") or timezone.localdate().isoformat(),
            query.get("date_to") or "",
        ]
    )
    return raw, location, days


def _request_cache_key(raw: str, location: str | None, days: list[date]) -> str:
    """The raw query plus the versions of every day it covers: a booking changes this key for
    the ranges that include its day only. Only answers the full view validated are ever stored
    under it."""
    versioned = "|".join([raw, *availability_versions(location, days)])
    # The format version in the key: old and new processes share Redis during a rolling deploy.
    return "availability:request:v3:" + hashlib.sha256(versioned.encode()).hexdigest()


# Identical requests within a process skip even the cache server: the answer (up to a few
# hundred kB for six weeks) stays in memory for the rest of its lifetime. The key holds the
# availability version, read from the cache server on every request, so a booking or schedule
# change is seen at once; held times that expire are seen within the lifetime, as before.
_LOCAL_ANSWERS_MAX = 64
_local_answers: TLRUCache = TLRUCache(maxsize=_LOCAL_ANSWERS_MAX, ttu=lambda key, entry, now: entry[0], timer=time.time)
_local_lock = threading.Lock()


def _cached_snapshot(key: str) -> AvailabilitySnapshot | None:
    with _local_lock:
        entry = _local_answers.get(key)
    if entry is None:
        entry = cache.get(key)
        if entry is None:
            return None
        with _local_lock:
            _local_answers[key] = entry
    return entry[1]


def _cache_snapshot(key: str, snapshot: AvailabilitySnapshot) -> None:
    """Store as (expires at, snapshot): the local copy must not outlive the shared one."""
    lifetime = settings.BOOKING_AVAILABILITY_CACHE_SECONDS
    entry = (time.time() + lifetime, snapshot)
    cache.set(key, entry, timeout=lifetime)
    with _local_lock:
        _local_answers[key] = entry


# The grace window (BOOKING_AVAILABILITY_GRACE_MS): during a release rush every booking makes
# the rushed location's answers stale, so without it nearly every read is rebuilt and reads
# queue behind the bookings for the CPU. For that many milliseconds after this process read the
# versions behind an answer, identical requests get that answer without reading them again. An
# answer is then at most that much staler than the last booking (booking re-checks under its
# lock, so staleness is never a safety problem), and a rushed range is rebuilt at most once per
# window per process.
def _clock() -> float:
    return time.monotonic()


_recent_answers: TLRUCache = TLRUCache(
    maxsize=_LOCAL_ANSWERS_MAX, ttu=lambda key, entry, now: entry[0], timer=lambda: _clock()
)


def _recent_snapshot(raw: str) -> AvailabilitySnapshot | None:
    with _local_lock:
        entry = _recent_answers.get(raw)
    return None if entry is None else entry[1]


def _remember_recent(raw: str, snapshot: AvailabilitySnapshot, versions_read_at: float) -> None:
    grace = settings.BOOKING_AVAILABILITY_GRACE_MS / 1000
    if grace > 0:
        with _local_lock:
            _recent_answers[raw] = (versions_read_at + grace, snapshot)


def local_answers_clear() -> None:
    """Forget this process's copies (tests; the shared cache was flushed)."""
    with _local_lock:
        _local_answers.clear()
        _recent_answers.clear()


def _json_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    # The same for every visitor and safe to serve a little stale (booking re-checks under a
    # lock): an HTTP cache or CDN in front of the app may keep it this long.
    patch_cache_control(response, public=True, max_age=settings.BOOKING_AVAILABILITY_HTTP_MAX_AGE)
    return response


class AvailabilityApi(APIView):
    """Availability reads come in bursts when new times open. A request identical to one
    answered in the last BOOKING_AVAILABILITY_CACHE_SECONDS (and with no booking or schedule
    change since) is answered from the cache before DRF's authentication, throttling and
    validation: it is the same public answer, already validated once."""

    class FilterSerializer(serializers.Serializer):
        product = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=5)
        persons = serializers.IntegerField(min_value=1, default=1)
        location = serializers.IntegerField(min_value=1, required=False)
        date_from = serializers.DateField(required=False, validators=[validate_date_window])
        date_to = serializers.DateField(required=False, validators=[validate_date_window])

        def validate_persons(self, value):
            if value > settings.BOOKING_MAX_PERSONS:
                raise serializers.ValidationError(
                    _("Maximaal %(max)s personen per afspraak.") % {"max": settings.BOOKING_MAX_PERSONS}
                )
            return value

        def validate(self, attrs):
            date_from = attrs.get("date_from") or timezone.localdate()
            date_to = attrs.get("date_to") or date_from + timedelta(days=13)
            if date_to < date_from:
                raise serializers.ValidationError({"date_to": _("De einddatum ligt vóór de begindatum.")})
            if (date_to - date_from).days + 1 > settings.BOOKING_MAX_RANGE_DAYS:
                raise serializers.ValidationError(
                    {
                        "date_to": _("Vraag hoogstens %(days)s dagen tegelijk op.")
                        % {"days": settings.BOOKING_MAX_RANGE_DAYS}
                    }
                )
            attrs["date_from"], attrs["date_to"] = date_from, date_to
            return attrs

    @extend_schema_serializer(component_name="Availability")
    class OutputSerializer(serializers.Serializer):
        slots = SlotSerializer(many=True)

    @extend_schema(
        summary=_("Vrije tijden"),
        description=_(
            "Vrije begintijden voor de gekozen producten en het aantal personen, in lokale tijd met "
            "UTC-verschil. Zonder datums: de komende twee weken."
        ),
        parameters=[
            OpenApiParameter("product", str, many=True, required=True, description=_("Productcode (herhaalbaar)")),
            OpenApiParameter("persons", int, description=_("Aantal personen (standaard 1)")),
            OpenApiParameter("location", int, description=_("Vestiging-id (optioneel)")),
            OpenApiParameter("date_from", str, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD"),
        ],
        responses=OutputSerializer,
    )
    def get(self, request):
        data = {key: request.query_params.get(key) for key in ("persons", "location", "date_from", "date_to")}
        data = {key: value for key, value in data.items() if value not in (None, "")}
        data["product"] = request.query_params.getlist("product")
        filters = self.FilterSerializer(data=data)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        products = products_by_codes(params["product"], field="product")
        location_id = location_get(params["location"]).pk if "location" in params else None
        snapshot = availability_snapshot(
            products=products,
            persons=params["persons"],
            location_id=location_id,
            date_from=params["date_from"],
            date_to=params["date_to"],
        )
        # The key holds the versions read before the computation: a booking committed meanwhile
        # moves readers to a newer key, so no answer is kept under a version it predates.
        key = getattr(request, "availability_cache_key", None)
        if key:
            _cache_snapshot(key, snapshot)
            _remember_recent(request.availability_query, snapshot, request.availability_versions_read_at)
        # Pre-rendered by the selector (documented by OutputSerializer above): serialising a
        # six-week range slot by slot cost more than everything else in a cached request.
        return _json_response(snapshot.json(timezone.now()))

    def dispatch(self, request, *args, **kwargs):
        query = _request_query(request.GET) if request.method == "GET" else None
        if query is not None and settings.BOOKING_AVAILABILITY_CACHE_SECONDS:
            raw, location, days = query
            snapshot = _recent_snapshot(raw)
            if snapshot is not None:
                return _json_response(snapshot.json(timezone.now()))
            request.availability_versions_read_at = _clock()
            request.availability_query = raw
            request.availability_cache_key = key = _request_cache_key(raw, location, days)
            snapshot = _cached_snapshot(key)
            if snapshot is not None:
                _remember_recent(raw, snapshot, request.availability_versions_read_at)
                return _json_response(snapshot.json(timezone.now()))
        return super().dispatch(request, *args, **kwargs)
