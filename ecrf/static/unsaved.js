// Asks before leaving a form with changes not yet saved (closing the tab, following a link).
(function () {
  "use strict";
  const forms = document.querySelectorAll("form[data-warn-unsaved]");
  if (forms.length === 0) return;
  // A page re-shown with values not yet saved (refused save, restored after sign-in) starts dirty.
  let dirty = Array.from(forms).some((form) => form.dataset.warnUnsaved === "dirty");

  forms.forEach(function (form) {
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    // Saving is leaving on purpose; another form's button (sign out, remove a row) is not.
    form.addEventListener("submit", function () { dirty = false; });
  });

  window.addEventListener("beforeunload", function (event) {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
