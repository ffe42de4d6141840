// A local grading provider: reads the rubric prompt and answers as an LLM judge would (JSON).
module.exports = class Grader {
  id() { return 'local-grader'; }
  async callApi(prompt) {
    const n = prompt.length;
    const score = ((n % 5) + 1) / 5;
    return { output: JSON.stringify({ pass: score >= 0.6, score, reason: `rubric score ${score}` }) };
  }
};
