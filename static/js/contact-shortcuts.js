// Registration of contacts (nudges.channels): number keys choose the product.
(function () {
  "use strict";
  // Digits pick the product (0 = general question) in any registration form on the page,
  // unless the focus is in a text or number field.
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || !/^[0-9]$/.test(event.key)) { return; }
    var target = event.target;
    if (target && (target.type === "number" || target.type === "text" || target.tagName === "TEXTAREA")) { return; }
    var form = (target && target.closest && target.closest("[data-contact-shortcuts]")) || document.querySelector("[data-contact-shortcuts]");
    if (!form) { return; }
    var radio = form.querySelector('input[name="product"][data-shortcut="' + event.key + '"]');
    if (radio) { radio.checked = true; radio.focus(); event.preventDefault(); }
  });
}());
