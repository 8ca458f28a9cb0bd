// The browser's time zone into the sign-in and sign-up forms, so Axiom shows times in it from then on.
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  document.querySelectorAll("input[name=timezone]").forEach(function (field) { field.value = zone; });
})();
