// The gallery: every card template with its samples, drawn once per language.
"use strict";

(async function () {
  // For tests: one result per card, with what the renderer reported and what it shows.
  window.gallery = { done: false, results: [] };
  await WegwijzerCards.load();
  const samples = await (await fetch("/dev/chat/gallery.json")).json();
  for (const sample of samples) {
    const section = document.createElement("section");
    section.className = "gallery-card";
    const title = document.createElement("h2");
    title.textContent = sample.template + " · " + sample.lang + " · " + sample.sample;
    section.appendChild(title);
    const result = { template: sample.template, lang: sample.lang, sample: sample.sample, problems: [] };
    if (sample.error) {
      result.problems.push("sample: " + sample.error);
      section.appendChild(WegwijzerCards.problemBox(result.problems));
    } else {
      const drawn = WegwijzerCards.render(sample.card, function () {});
      result.problems = drawn.problems;
      const wrapper = document.createElement("div");
      wrapper.className = "card teams-card";
      if (drawn.problems.length) wrapper.appendChild(WegwijzerCards.problemBox(drawn.problems));
      if (drawn.element) wrapper.appendChild(drawn.element);
      section.appendChild(wrapper);
      document.getElementById("cards").appendChild(section);
      result.text = drawn.element ? drawn.element.innerText : "";
      result.buttons = drawn.element
        ? Array.from(drawn.element.querySelectorAll("button.ac-pushButton")).map((b) => b.innerText.trim())
        : [];
      result.card = sample.card;
      window.gallery.results.push(result);
      continue;
    }
    document.getElementById("cards").appendChild(section);
    window.gallery.results.push(result);
  }
  window.gallery.done = true;
})();
