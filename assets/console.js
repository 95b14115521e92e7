// The console's own script (no inline scripts: the Content-Security-Policy forbids them).
// Every form works without it; it only asks for confirmation and lets htmx refresh parts.
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
}, true);
