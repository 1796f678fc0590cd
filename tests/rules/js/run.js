// Evaluate [rule, data] pairs with json-logic-js: a JSON array on stdin, one
// answer per pair on stdout (tests/rules/test_rules_js.py). Values JSON cannot
// carry are marked: {"$number": "NaN"|"Infinity"|"-Infinity"}, {"$undefined": true},
// {"$function": true}; a thrown error is {"error": message}.
"use strict";
const jsonLogic = require("json-logic-js");

function mark(key, value) {
  if (typeof value === "number" && !Number.isFinite(value)) return {$number: String(value)};
  if (value === undefined) return {$undefined: true};
  if (typeof value === "function") return {$function: true};
  return value;
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const answers = JSON.parse(input).map(([rule, data]) => {
    try {
      const value = jsonLogic.apply(rule, data);
      return JSON.parse(JSON.stringify({value: mark("", value)}, mark));
    } catch (error) {
      return {error: String(error && error.message || error)};
    }
  });
  process.stdout.write(JSON.stringify(answers));
});
