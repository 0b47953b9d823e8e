// Fills a lab form from the site's laboratory registry as the laboratory (or the sample
// date) is chosen: the unit of each value, and the limits of normal left empty (or filled
// here before). The server does the same on save (ecrf/crf/save/laboratory.py), and asks a
// reason for a limit that differs from the registry's.
(function () {
  "use strict";

  const blob = document.getElementById("lab-registry");
  const form = document.getElementById("entry-form");
  if (!blob || !form) return;
  const registry = JSON.parse(blob.textContent);

  function field(name) {
    return name ? form.elements.namedItem(name) : null;
  }

  function inForce(range, day) {
    return range.from <= day && (!range.to || day <= range.to);
  }

  function applies(range, day) {
    // As ReferenceRange.applies: a range for one sex or an age band needs the subject's.
    if (!inForce(range, day)) return false;
    if (range.sex && range.sex !== registry.sex) return false;
    const age = registry.age;
    if (range.age_low !== null && (age === null || age < range.age_low)) return false;
    return !(range.age_high !== null && (age === null || age >= range.age_high));
  }

  function best(ranges, testcd, day) {
    // The most specific range: one for the subject's sex before one for both.
    let found = null;
    let score = -1;
    ranges.forEach((range) => {
      if (range.testcd !== testcd || !applies(range, day)) return;
      const rank = (range.sex ? 2 : 0) + (range.age_low !== null ? 1 : 0);
      if (rank > score || (rank === score && range.from > found.from)) {
        found = range;
        score = rank;
      }
    });
    return found;
  }

  function set(input, value) {
    if (!input || input.value === value) return;
    input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fillLimit(input, value) {
    if (!input || value === null) return;
    // Never overwrite what the user typed; replace what this script filled.
    if (input.value.trim() !== "" && input.dataset.registry !== input.value) return;
    set(input, value);
    input.dataset.registry = value;
    input.title = "From the laboratory registry";
  }

  function fill(row) {
    const lab = field(row.lab);
    const ranges = lab ? registry.labs[lab.value] : null;
    if (!ranges) return;
    const typed = field(row.date);
    const day = typed && /^\d{4}-\d{2}-\d{2}$/.test(typed.value.trim())
      ? typed.value.trim()
      : new Date().toISOString().slice(0, 10);
    Object.entries(row.analytes).forEach(([testcd, fields]) => {
      const declared = ranges.find((r) => r.testcd === testcd && inForce(r, day));
      const unit = field(fields.unit);
      if (declared && unit && Array.from(unit.options).some((o) => o.value === declared.unit)) {
        set(unit, declared.unit);
      }
      const range = best(ranges, testcd, day);
      if (!range) return;
      fillLimit(field(fields.low), range.low);
      fillLimit(field(fields.high), range.high);
    });
  }

  registry.rows.forEach((row) => {
    [row.lab, row.date].forEach((name) => {
      const input = field(name);
      if (input) input.addEventListener("change", () => fill(row));
    });
  });
})();
