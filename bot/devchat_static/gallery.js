// The gallery: every card template with its samples, drawn once per language.
"use strict";

(async function () {
  // For tests: one result per card, with what the renderer reported and what it shows.
  window.gallery = { done: false, results: [] };
  await WegwijzerCards.load();
  const samples = await (await fetch("/dev/chat/gallery.json")).json();
  for (const sample of samples) {
    const section = document.createElement("section");
    const title = document.createElement("h2");
    title.textContent = sample.template + " · " + sample.lang + " · " + sample.sample;
    section.appendChild(title);
    document.getElementById("cards").appendChild(section);
    const result = { template: sample.template, lang: sample.lang, sample: sample.sample };
    window.gallery.results.push(result);
    if (sample.error) {
      result.problems = ["sample: " + sample.error];
      section.appendChild(WegwijzerCards.problemBox(result.problems));
      continue;
    }
    const drawn = WegwijzerCards.render(sample.card, function () {});
    const wrapper = document.createElement("div");
    wrapper.className = "card teams-card";
    if (drawn.problems.length) wrapper.appendChild(WegwijzerCards.problemBox(drawn.problems));
    if (drawn.element) wrapper.appendChild(drawn.element);
    section.appendChild(wrapper);
    result.problems = drawn.problems;
    result.card = sample.card;
    result.text = drawn.element ? drawn.element.innerText : "";
    // Elements only Markdown makes (links, emphasis, headings, lists, quotes, code), by tag.
    result.markdown = drawn.element
      ? Array.from(drawn.element.querySelectorAll("a, strong, em, h1, h2, h3, h4, h5, h6, ul, ol, li, blockquote, code, del, s")).map((e) => e.tagName.toLowerCase())
      : [];
    result.buttons = drawn.element
      ? Array.from(drawn.element.querySelectorAll("button.ac-pushButton")).map((b) => b.innerText.trim())
      : [];
  }
  window.gallery.done = true;
})();
