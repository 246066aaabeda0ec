"use strict";
const T = {
  zh: {title:"自考毕业证书照片自检", spec:"选择规范（省份）", drop:"把照片拖到这里，或", pick:"选择照片",
       annot:"标注图：绿色为合格，红色为不合格", st:"状态", rule:"检查项", measured:"测量值", expected:"要求",
       advice:"说明与建议", bg:"背景", bg_keep:"保持原背景", bg_blue:"浅蓝", bg_white:"白色", bg_grey:"浅灰",
       fix:"一键修正", fixed:"修正结果", before:"修正前", after:"修正后", download:"下载合格照片",
       privacy:"照片只在本机处理，不会上传到其他地方。", checking:"正在检查…", fixing:"正在修正…",
       pass:"通过", fail:"不通过", warn:"警告", skip:"跳过", error:"无法评估",
       v_pass:"✓ 照片符合要求", v_warn:"✓ 照片符合要求（有建议）", v_fail:"✗ 照片不符合要求", v_error:"✗ 无法读取照片",
       fix_ok:"修正后的照片符合要求，可以下载。", fix_bad:"修正后仍有问题（软件无法修正的需重新拍摄）：", lang:"English"},
  en: {title:"Self-study exam photo self-check", spec:"Spec (province)", drop:"Drop a photo here, or", pick:"Choose a photo",
       annot:"Annotated: green inside the band, red outside", st:"Status", rule:"Check", measured:"Measured", expected:"Expected",
       advice:"Details and advice", bg:"Background", bg_keep:"keep", bg_blue:"light blue", bg_white:"white", bg_grey:"light grey",
       fix:"Fix it", fixed:"Fixed photo", before:"Before", after:"After", download:"Download the compliant photo",
       privacy:"Photos are processed on this machine only.", checking:"Checking…", fixing:"Fixing…",
       pass:"pass", fail:"FAIL", warn:"warn", skip:"skip", error:"error",
       v_pass:"✓ The photo complies", v_warn:"✓ The photo complies (with advice)", v_fail:"✗ The photo does not comply", v_error:"✗ The photo cannot be read",
       fix_ok:"The fixed photo complies: download it.", fix_bad:"Still failing (retake the photo for what software cannot fix):", lang:"中文"},
};
let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";
let lastFile = null, lastReport = null, names = {};
const $ = (id) => document.getElementById(id);

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = T[lang][el.dataset.i18n];
  $("lang").textContent = T[lang].lang;
  if (lastReport) showReport(lastReport);
  loadSpecs();
}

async function loadSpecs() {
  const keep = $("spec").value;
  const r = await fetch("/v1/specs");
  const specs = await r.json();
  $("spec").innerHTML = "";
  for (const s of specs) {
    const o = document.createElement("option");
    o.value = s.id; o.textContent = `${lang === "en" && s.title_en ? s.title_en : s.title} (${s.id})`;
    $("spec").appendChild(o);
  }
  $("spec").value = keep || "moe-2021";
}

async function loadNames() {
  const r = await fetch("/v1/checks");
  names = await r.json();
}

function fmt(obj) {
  if (!obj) return "";
  return Object.entries(obj).filter(([k, v]) => v !== null && typeof v !== "object")
    .map(([k, v]) => `${k}: ${typeof v === "number" ? Math.round(v * 100) / 100 : v}`).join(", ");
}

function showReport(rep) {
  lastReport = rep;
  $("result").hidden = false;
  $("verdict").className = rep.status;
  $("verdict").textContent = T[lang]["v_" + rep.status];
  if (rep.annotation) $("annot").src = rep.annotation;
  const body = $("rules").querySelector("tbody");
  body.innerHTML = "";
  for (const c of rep.checks) {
    const tr = document.createElement("tr");
    tr.className = c.status; tr.dataset.check = c.id;
    const name = names[c.id] ? names[c.id][lang] : c.id;
    const cells = [T[lang][c.status], name, fmt(c.measured), fmt(c.expected), c.message[lang]];
    for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
    body.appendChild(tr);
  }
}

async function check(file) {
  lastFile = file;
  $("fixed").hidden = true;
  $("status").textContent = T[lang].checking;
  const fd = new FormData();
  fd.append("photo", file); fd.append("spec", $("spec").value); fd.append("lang", lang); fd.append("annotate", "true");
  const r = await fetch("/v1/check", {method: "POST", body: fd});
  const j = await r.json();
  if (!r.ok) { $("status").textContent = j.error.message[lang]; return; }
  $("status").textContent = "";
  showReport(j);
}

async function fix() {
  if (!lastFile) return;
  $("status").textContent = T[lang].fixing;
  const fd = new FormData();
  fd.append("photo", lastFile); fd.append("spec", $("spec").value); fd.append("background", $("bg").value); fd.append("lang", lang);
  const r = await fetch("/v1/fix", {method: "POST", body: fd});
  const j = await r.json();
  $("status").textContent = "";
  if (!r.ok) { $("status").textContent = j.error.message[lang]; return; }
  $("fixed").hidden = false;
  $("before").src = URL.createObjectURL(lastFile);
  const ul = $("actions"); ul.innerHTML = "";
  for (const a of j.actions || []) { const li = document.createElement("li"); li.textContent = a[lang] || a.en || String(a); ul.appendChild(li); }
  if (j.image_base64) {
    $("after").src = "data:image/jpeg;base64," + j.image_base64;
    $("download").href = $("after").src; $("download").download = j.filename; $("download").hidden = false;
  } else { $("after").removeAttribute("src"); $("download").hidden = true; }
  if (j.ok) { $("fixmsg").textContent = T[lang].fix_ok; }
  else {
    const bad = (j.report_after ? j.report_after.checks : []).filter(c => c.status === "fail" || (c.status === "error" && c.severity === "error"));
    const why = j.refused ? (j.refused[lang] || j.refused.en || j.refused) : bad.map(c => c.message[lang]).join("；");
    $("fixmsg").textContent = T[lang].fix_bad + " " + why;
  }
  if (j.report_after) showReport(Object.assign({}, j.report_after, {annotation: j.image_base64 ? $("after").src : null}));
}

$("file").addEventListener("change", (e) => { if (e.target.files[0]) check(e.target.files[0]); });
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) check(e.dataTransfer.files[0]); });
$("spec").addEventListener("change", () => { if (lastFile) check(lastFile); });
$("fix").addEventListener("click", fix);
$("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; applyLang(); });
loadNames().then(applyLang);
