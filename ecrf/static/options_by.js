// A choice whose codes depend on another item of its row (a CTCAE term's grades): only the
// codes that go with that item's value can be chosen. The server refuses the others on
// save (forms.language.OptionsBy); this spares the nurse the round trip.
(function () {
  "use strict";

  const form = document.getElementById("entry-form");
  if (!form) return;

  function rowOf(wrapper, byOid) {
    // The nearest block around the choice that holds the item it depends on: its row.
    for (let node = wrapper.parentElement; node && node !== form.parentElement; node = node.parentElement) {
      if (node.querySelector('[data-item="' + byOid + '"] select')) return node;
    }
    return null;
  }

  function limit(select, allowed, known) {
    for (const option of select.options) {
      // Codes the table never names (the empty choice, missing-data codes) stay; a value
      // already chosen stays visible, for the server's message to speak of it.
      const limited = Boolean(allowed) && known.has(option.value) && !allowed.includes(option.value);
      option.disabled = limited && option.value !== select.value;
    }
  }

  for (const script of document.querySelectorAll("script[data-options-for]")) {
    const table = JSON.parse(script.textContent);
    const known = new Set(Object.values(table).flat());
    const forOid = script.dataset.optionsFor;
    const byOid = script.dataset.optionsBy;
    for (const wrapper of form.querySelectorAll('[data-item="' + forOid + '"]')) {
      const select = wrapper.querySelector("select");
      const row = rowOf(wrapper, byOid);
      if (!select || !row) continue;
      const by = row.querySelector('[data-item="' + byOid + '"] select');
      const update = () => limit(select, table[by.value], known);
      by.addEventListener("change", update);
      select.addEventListener("change", update);
      update();
    }
  }
})();
