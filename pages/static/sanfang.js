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

// A file input hidden behind its "选择照片" label: say how many files were chosen.
document.addEventListener("change", function (event) {
  var input = event.target.closest("input.sf-file");
  var said = input && input.parentElement.querySelector(".file-chosen");
  if (!said) return;
  var count = input.files ? input.files.length : 0;
  said.textContent = count ? (input.dataset.chosen || "{n}").replace("{n}", count) : "";
});

// The designer's condition rows: for a field with options (是/否 for a yes/no field) the
// value is picked from a list that writes the typed box, which stays for "is one of" (a
// comma-separated list); a number field gets a number box, a date field a date picker. The server checks the
// value against the same options on save.
function sfConditionValue(select) {
  var row = select.closest("tr");
  var input = row && row.querySelector("input[data-sf-condition-value]");
  var op = row && row.querySelector("select[name$='-op']");
  var chosen = select.options[select.selectedIndex];
  if (!input || !chosen) return;
  var options = JSON.parse(chosen.getAttribute("data-options") || "[]");
  var picker = row.querySelector("select[data-sf-condition-pick]");
  var many = op && (op.value === "in" || op.value === "not in");
  if (options.length && !many) {
    if (!picker) {
      picker = document.createElement("select");
      picker.setAttribute("data-sf-condition-pick", "");
      picker.setAttribute("aria-label", input.getAttribute("aria-label") || "");
      input.after(picker);
    }
    picker.replaceChildren.apply(picker, [""].concat(options).map(function (text) {
      var option = document.createElement("option");
      option.value = text;
      option.textContent = text || "—";
      option.selected = text === input.value;
      return option;
    }));
    input.hidden = true;
    picker.hidden = false;
  } else {
    if (picker) picker.hidden = true;
    input.hidden = false;
  }
  var kind = chosen.getAttribute("data-kind");
  input.setAttribute("inputmode", kind === "number" ? "decimal" : "text");
  input.type = kind === "date" && !many ? "date" : kind === "number" && !many ? "number" : "text";
  if (kind === "number") input.step = "any";
}
document.addEventListener("change", function (event) {
  var pick = event.target.closest("select[data-sf-condition-pick]");
  if (pick) {
    pick.closest("tr").querySelector("input[data-sf-condition-value]").value = pick.value;
    return;
  }
  var select = event.target.closest("select[data-sf-condition-field]");
  var op = event.target.closest("select[name$='-op']");
  if (op) select = op.closest("tr").querySelector("select[data-sf-condition-field]");
  if (select) sfConditionValue(select);
});
function sfConditionValues(root) {
  root.querySelectorAll("select[data-sf-condition-field]").forEach(sfConditionValue);
}
document.addEventListener("DOMContentLoaded", function () { sfConditionValues(document); });
document.addEventListener("htmx:load", function (event) { sfConditionValues(event.target); });

// A checklist with a search box: typing hides the boxes whose label does not match.
document.addEventListener("input", function (event) {
  var box = event.target.closest("input[data-sf-filter]");
  if (!box) return;
  var list = document.getElementById(box.getAttribute("data-sf-filter"));
  var text = box.value.trim();
  list.querySelectorAll("label").forEach(function (label) {
    label.hidden = text !== "" && label.textContent.indexOf(text) < 0 && !label.querySelector("input:checked");
  });
});

// A destructive or final button (remove a line, publish, withdraw) asks first: its
// data-confirm holds the question, already in the reader's language.
document.addEventListener("submit", function (event) {
  if (event.defaultPrevented) return;  // an HTMX form: asked in htmx:confirm below
  var button = event.submitter;
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
// An HTMX form (hx-post) sends before the submit event reaches the document: ask first.
document.addEventListener("htmx:confirm", function (event) {
  var trigger = event.detail.triggeringEvent;
  var button = trigger && trigger.submitter;
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
