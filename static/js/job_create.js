// Show only the chosen task's datasets and models. The server checks the same rule, so the
// form still works (with a clear error) without this script.
(function () {
  var form = document.getElementById("job-create");
  if (!form) return;
  var task = form.querySelector("[name=task]");
  function apply() {
    var chosen = task.value;
    ["train_dataset", "val_dataset"].forEach(function (name) {
      var select = form.querySelector("select[name=" + name + "]");
      var firstVisible = null;
      Array.prototype.forEach.call(select.options, function (opt) {
        var t = opt.getAttribute("data-task");
        var show = !t || t === chosen;
        opt.hidden = !show;
        opt.disabled = !show;
        if (show && t && !firstVisible) firstVisible = opt;
      });
      var current = select.options[select.selectedIndex];
      if (current && current.disabled) select.value = firstVisible ? firstVisible.value : "";
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
