// The meeting page's only script: a what-if control that changes submits its form, so the tier,
// reasons, artifacts and the quarter follow at once. Without it, the form's Apply button does it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("whatif");
  if (!form) return;
  for (const range of form.querySelectorAll("input[type=range]")) {
    const out = range.parentElement.querySelector("output");
    range.addEventListener("input", () => { if (out) out.textContent = range.value; });
  }
  form.addEventListener("change", () => form.requestSubmit());
  // one column (a narrow window): the selected item's panel is below the list, so show it
  if (window.matchMedia("(max-width: 1100px)").matches) {
    document.getElementById("detail").scrollIntoView();
  }
});
