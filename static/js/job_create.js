// Show only the chosen task's datasets and models. The server checks the same rule, so the
// form still works (with a clear error) without this script.
(function () {
  var form = document.getElementById("job-create");
  if (!form) return;
  var task = form.querySelector("[name=task]");
  function apply() {
    var chosen = task.value;
    ["train_dataset", "val_dataset"].forEach(function (name, position) {
      var select = form.querySelector("select[name=" + name + "]");
      var visible = [];
      Array.prototype.forEach.call(select.options, function (opt) {
        var t = opt.getAttribute("data-task");
        var show = !t || t === chosen;
        opt.hidden = !show;
        opt.disabled = !show;
        if (show && t) visible.push(opt);
      });
      var current = select.options[select.selectedIndex];
      if (!current || current.disabled || !current.value) {
        // Suggest one of the task's datasets, a different one for validation when there is one.
        var other = position === 1 ? form.querySelector("select[name=train_dataset]").value : "";
        var pick = visible.filter(function (opt) { return opt.value !== other; })[0] || visible[0];
        select.value = pick ? pick.value : "";
      }
    });
    var anyModel = false;
    form.querySelectorAll("input[name=models]").forEach(function (box) {
      var show = box.getAttribute("data-task") === chosen;
      var item = box.closest("li") || box.parentNode;
      item.hidden = !show;
      if (!show) box.checked = false;
      anyModel = anyModel || show;
    });
    var note = document.getElementById("no-models-note");
    if (note) note.hidden = anyModel;
  }
  task.addEventListener("change", apply);
  apply();
})();
