// Writes static/css/plotly.css: the rules that plotly.js would otherwise insert as an inline
// <style> element, which the Content-Security-Policy refuses. Run it again after replacing
// the vendored bundle:  node bin/plotly_css.js static/js/vendor/plotly-cartesian.min.js > static/css/plotly.css
const fs = require("fs");

const bundle = fs.readFileSync(process.argv[2], "utf8");
const start = bundle.indexOf('{"X,X div"');
const end = bundle.indexOf("};for(", start) + 1;
if (start < 0 || end < 1) throw new Error("plotly.js's style rules were not found in " + process.argv[2]);
// An object literal of strings only, from the bundle we serve ourselves.
const rules = eval("(" + bundle.slice(start, end) + ")");
const lines = [];
for (const selector in rules) {
  // The same substitutions as plotly.js's src/css/_plotcss.js consumer.
  const full = selector.replace(/^,/, " ,").replace(/X/g, ".js-plotly-plot .plotly").replace(/Y/g, ".plotly-notifier");
  lines.push(full + " {" + rules[selector] + "}");
}
// plotly.js inserts each rule at index 0, so the last one it adds comes first.
lines.reverse();
process.stdout.write(
  "/* plotly.js's own styles, written by bin/plotly_css.js from the vendored bundle; loaded by\n" +
  "   static/js/charts.js as the element plotly.js looks for before adding an inline <style>. */\n" +
  lines.join("\n") + "\n"
);
