// Conditional fields: when an answer other fields depend on changes, the server
// re-renders the field block (it alone decides what is visible), no page reload.
document.addEventListener("change", function (event) {
  var input = event.target.closest("[data-sf-refresh]");
  var form = input && input.form;
  if (!form || !form.dataset.sfRefreshTarget || !window.htmx) return;
  htmx.ajax("POST", form.getAttribute("action") || window.location.href, {
    source: form,
    target: form.dataset.sfRefreshTarget,
    swap: "outerHTML",
    values: { _refresh: "1" },
  });
});

// A select that submits its form when changed (the reassign page's commissioner);
// a listener here rather than onchange="..." because the CSP allows no inline script.
document.addEventListener("change", function (event) {
  var select = event.target.closest("select[data-sf-autosubmit]");
  if (select && select.form) select.form.submit();
});
