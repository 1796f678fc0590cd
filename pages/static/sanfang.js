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

// A refused submit answers with the form again: 422 (answers that need fixing) or 409
// (someone else changed the record meanwhile), the typed answers kept and the problem
// shown. htmx 2 swaps only 2xx by default, which would leave the old form on screen as
// if nothing happened; swap these two like a success. Other 4xx/5xx stay errors.
if (window.htmx) {
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "^(409|422)$", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
    { code: "...", swap: false },
  ];
}

// A destructive or final button (remove a line, publish, withdraw) asks first: its
// data-confirm holds the question, already in the reader's language.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
