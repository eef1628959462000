/**
 * The shape of the /learn/ track: five lessons, each a short explanation with links into the demo
 * pages ("try it"), code beside Django's where code is shown, then a quiz of ten questions graded
 * on the server. Lessons are plain data (src/learn/lessons/), so a test can read every question
 * and check each behaviour it states against the framework itself (test/learn/).
 */

/** A paragraph of the explanation: text, optionally with code and a link into the demo. */
export interface Section {
  heading: string;
  /** Paragraphs, in the project's own words. Inline code in `backticks` is rendered as code. */
  paragraphs: string[];
  /** Django's code beside ours, when the section shows code. */
  code?: { django?: string; ours?: string };
  /** Demo pages that show this point. */
  tryIt?: { href: string; label: string }[];
}

export interface Choice {
  /** Stable within its question ("a", "b", ...): what the form posts. */
  id: string;
  text: string;
  /** For a wrong choice: why people pick it, and why it is wrong. Absent on the right one. */
  whyPicked?: string;
}

export interface Question {
  /** Stable id, unique in the track ("what-1", "dict-4", ...): progress is kept under it. */
  id: string;
  /** 1 (easy) to 3 (hard); a lesson's questions run from easy to hard. */
  level: 1 | 2 | 3;
  prompt: string;
  /** Code the question is about, shown above the choices. */
  code?: string;
  choices: Choice[];
  /** The id of the right choice. */
  answer: string;
  /** The worked solution, in steps. */
  solution: string[];
  /** One line that points the way without giving the answer. */
  hint: string;
  /**
   * Set when the answer is a behaviour of the framework (a default, what a call returns, whether
   * a cookie is sent, what is stored): the name of the check in test/learn/ that runs the
   * framework and compares its result with `answer`. A question with `checkedBy` and no matching
   * check fails the tests.
   */
  checkedBy?: string;
}

export interface Lesson {
  /** URL segment: /learn/<slug>/. */
  slug: string;
  number: 1 | 2 | 3 | 4 | 5;
  title: string;
  /** One or two sentences for the track's index. */
  summary: string;
  sections: Section[];
  /** Ten questions, easy to hard. */
  quiz: Question[];
}
