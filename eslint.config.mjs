// Lint: eslint's and typescript-eslint's recommended rules (no type information, so it stays fast).
// Formatting is prettier's job (.prettierrc.json), architecture rules are dependency-cruiser's.
import js from "@eslint/js"
import globals from "globals"
import tseslint from "typescript-eslint"

export default tseslint.config(
  {
    ignores: [
      "dist/",
      ".compat/",
      "node_modules/",
      "examples/*/dist/",
      "examples/*/node_modules/",
      "bench/results*.json"
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }
      ],
      "@typescript-eslint/no-require-imports": "off",
      "no-constant-condition": ["error", { checkLoops: false }],
      // Input validation rejects control characters on purpose.
      "no-control-regex": "off",
      // Tests match column layouts (help pages, doctor tables) with literal spaces on purpose.
      "no-regex-spaces": "off"
    }
  },
  // The CLI writes to the terminal only through src/cli/output.ts (and Effect's Console, which
  // main.ts replaces with the sanitising one): what a Gateway, node, page or model sent never reaches it raw.
  {
    files: ["src/cli/**"],
    ignores: ["src/cli/output.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "MemberExpression[object.object.name='process'][object.property.name=/^(stdout|stderr)$/][property.name='write']",
          message: "Write through src/cli/output.ts (writeText, writeError, printJson) or Console: it sanitises."
        },
        {
          selector: "MemberExpression[object.name='console']",
          message: "Use Console (sanitised by main.ts) or src/cli/output.ts, not console."
        }
      ]
    }
  },
  // The Control UI runs in the browser.
  { files: ["src/ui/**"], languageOptions: { globals: { ...globals.browser } } }
)
