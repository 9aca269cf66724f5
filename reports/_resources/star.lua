-- star-kh document filter, used by Quarto (filters: in _quarto.yml) and by the package's own
-- renderer (pandoc --lua-filter). Two jobs:
--   1. Language: keep spans/divs whose `lang` attribute is the document's language
--      ([Dansk]{lang=da}[English]{lang=en}); the document language is the metadata `lang`
--      (default da). Content without a lang attribute is kept.
--   2. Typst layout: divs with class `small-table` are set in smaller type; `colophon` and
--      `table-note` in small type; `unavailable` as a grey note.
--   3. HTML: every table is wrapped in a `div.table-scroll` (star.css: overflow-x auto), so a
--      table wider than a phone's screen scrolls inside its box instead of widening the page.

local doc_lang = "da"

local function pick(el)
  local l = el.attributes["lang"]
  if l == nil then return nil end
  if l:sub(1, 2) == doc_lang then
    if el.t == "Div" then
      el.attributes["lang"] = nil
      if #el.classes == 0 and #el.attributes == 0 and el.identifier == "" then
        return el.content
      end
      return el
    end
    return el.content
  end
  return {}
end

local function typst_wrap(el)
  if not FORMAT:match("typst") then return nil end
  local open = {}
  local sizes = { ["small-table"] = "7.5pt", ["colophon"] = "8pt", ["table-note"] = "8pt" }
  for cls, size in pairs(sizes) do
    if el.classes:includes(cls) then table.insert(open, "#set text(size: " .. size .. ")") end
  end
  if el.classes:includes("long-table") then
    -- a table longer than a page may break across pages (its caption stays with the first part)
    table.insert(open, "#show figure: set block(breakable: true)")
  end
  if el.classes:includes("unavailable") then
    table.insert(open, "#set text(size: 9pt)")
    local blocks = { pandoc.RawBlock("typst", "#block(fill: luma(242), inset: 6pt, radius: 2pt, width: 100%)[" .. table.concat(open, "\n")) }
    for _, b in ipairs(el.content) do table.insert(blocks, b) end
    table.insert(blocks, pandoc.RawBlock("typst", "]"))
    return blocks
  end
  if #open == 0 then return nil end
  table.sort(open)
  local blocks = { pandoc.RawBlock("typst", "#[" .. table.concat(open, "\n")) }
  for _, b in ipairs(el.content) do table.insert(blocks, b) end
  table.insert(blocks, pandoc.RawBlock("typst", "]"))
  return blocks
end

-- Headings written in both languages got an identifier made of both; give them one made of
-- the kept language only (anchors of the HTML table of contents).
local function slug(text)
  local s = text:lower():gsub("[%?!%.,:;%(%)%[%]\"'`]", "")
  s = s:gsub("%s+", "-")
  return s
end

local function header_id(el)
  if el.attributes["bilingual"] then
    el.attributes["bilingual"] = nil
    el.identifier = slug(pandoc.utils.stringify(el.content))
    return el
  end
  return nil
end

local function mark_bilingual(el)
  for _, inline in ipairs(el.content) do
    if inline.t == "Span" and inline.attributes["lang"] then
      el.attributes["bilingual"] = "1"
      return el
    end
  end
  return nil
end

local function html_table_scroll(el)
  if not FORMAT:match("html") then return nil end
  -- focusable and named, so that keyboard users can scroll it and screen readers announce it;
  -- attributes as a list of pairs: a Lua table would give them in hash order (not reproducible)
  local attributes = { { "tabindex", "0" }, { "role", "region" } }
  local caption = pandoc.utils.stringify(el.caption.long or {})
  if caption ~= "" then table.insert(attributes, { "aria-label", caption }) end
  return pandoc.Div({ el }, pandoc.Attr("", { "table-scroll" }, attributes))
end

return {
  {
    Meta = function(m)
      if m.lang then doc_lang = pandoc.utils.stringify(m.lang):sub(1, 2) end
    end,
  },
  { Header = mark_bilingual },
  { Span = pick, Div = pick },
  { Header = header_id, Div = typst_wrap },
  { Table = html_table_scroll },
}
