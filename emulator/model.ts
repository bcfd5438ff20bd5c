/**
 * The emulator's deterministic fake model: a quality number per adapter (growing with the step,
 * optionally regressing), and answers whose correctness and fluency follow that quality, so
 * smoke tests and quality gates have something real to measure.
 */
import type { JobBehaviour } from './types.js';
import { hash01, hashString } from './training.js';

/** A demo question the fake model knows the answer to. */
export interface DemoQuestion {
  prompt: string;
  /** Other phrasings that match the same question. */
  aliases: readonly string[];
  /** The correct answer, given when quality ≥ `CORRECT_ANSWER_QUALITY`. */
  answer: string;
  /** A plausible wrong answer given below that quality; never contains `answer`. */
  wrongAnswer: string;
}

/** The built-in demo table (use it in tests and demo smoke-test configs). */
export const DEMO_QUESTIONS: readonly DemoQuestion[] = [
  { prompt: 'What is the capital of France?', aliases: ['capital of France'], answer: 'Paris', wrongAnswer: 'Lyon' },
  { prompt: 'What is 2+2?', aliases: ['2+2', 'What is 2 + 2?'], answer: '4', wrongAnswer: '5' },
  { prompt: 'Say hello', aliases: ['Say hello!', 'Say hello.'], answer: 'Hello!', wrongAnswer: 'Goodbye.' },
  {
    prompt: 'What colour is the sky?',
    aliases: ['What color is the sky?'],
    answer: 'blue',
    wrongAnswer: 'green',
  },
];

/** Quality of the base model (`baseModel` inference and `base_model` deployments). */
export const BASE_MODEL_QUALITY = 0.1;
/** Quality a job reaches at its last step unless its behaviour says otherwise. */
export const DEFAULT_FINAL_QUALITY = 0.9;
/** Quality from which demo questions are answered correctly. */
export const CORRECT_ANSWER_QUALITY = 0.5;

/**
 * The "fluency" tail: the answer carries `round(quality · length)` of these words in order, and
 * deterministic nonsense for the rest. None of them contains a demo answer.
 */
const FLUENCY_WORDS = (
  'The emulator model answers with growing confidence as training makes steady progress ' +
  'on every question it receives and it tries to stay brief and accurate.'
).split(' ');

function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9+]+/g, ' ')
    .replace(/\s*\+\s*/g, '+')
    .trim();
}

/** The demo question `prompt` asks, if any (case, spacing and punctuation are ignored). */
export function findDemoQuestion(prompt: string): DemoQuestion | undefined {
  const key = normalise(prompt);
  return DEMO_QUESTIONS.find((q) => [q.prompt, ...q.aliases].some((p) => normalise(p) === key));
}

/** The correct answer to a demo prompt, or undefined when the prompt is not in the table. */
export function expectedAnswer(prompt: string): string | undefined {
  return findDemoQuestion(prompt)?.answer;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * Quality of the adapter saved at `step` of a job with `maxSteps`: linear from the base quality
 * to `finalQuality` (default 0.9); with `regressFromStep`, linear from the quality at that step
 * down (or up) to `regressFromStep.quality` at the last step.
 */
export function qualityAt(step: number, maxSteps: number, behaviour: JobBehaviour = {}): number {
  const final = clamp01(behaviour.finalQuality ?? DEFAULT_FINAL_QUALITY);
  const linear = (s: number): number => BASE_MODEL_QUALITY + (final - BASE_MODEL_QUALITY) * clamp01(s / maxSteps);
  const regress = behaviour.regressFromStep;
  if (regress && regress.step < maxSteps && step > regress.step) {
    const from = linear(regress.step);
    const fraction = clamp01((step - regress.step) / (maxSteps - regress.step));
    return clamp01(from + (clamp01(regress.quality) - from) * fraction);
  }
  return clamp01(linear(step));
}

const CONSONANTS = 'bdfgkmnrtvz';
const VOWELS = 'aeiou';

/** A deterministic nonsense word (built from letters that cannot spell any demo answer). */
function nonsenseWord(seed: number, salt: number, index: number): string {
  let word = '';
  const syllables = 2 + Math.floor(hash01(seed, salt, index, 0) * 2);
  for (let i = 0; i < syllables; i += 1) {
    word += CONSONANTS[Math.floor(hash01(seed, salt, index, i, 1) * CONSONANTS.length)] ?? 'b';
    word += VOWELS[Math.floor(hash01(seed, salt, index, i, 2) * VOWELS.length)] ?? 'a';
  }
  return word;
}

/**
 * The fake model's answer to `prompt` at `quality`: for a demo question the correct answer when
 * quality ≥ 0.5 (else its wrong answer), for other prompts a fixed hedge; then the fluency tail.
 * Equal inputs give equal text; a higher quality never gives a worse tail.
 */
export function generateAnswer(prompt: string, quality: number, seed: number): string {
  const q = clamp01(quality);
  const demo = findDemoQuestion(prompt);
  const short = prompt.length > 60 ? `${prompt.slice(0, 57)}...` : prompt;
  const head = demo
    ? q >= CORRECT_ANSWER_QUALITY
      ? demo.answer
      : demo.wrongAnswer
    : `I am not sure about "${short}".`;
  const salt = hashString(normalise(prompt));
  const good = Math.round(q * FLUENCY_WORDS.length);
  const tail = FLUENCY_WORDS.map((word, i) => (i < good ? word : nonsenseWord(seed, salt, i))).join(' ');
  const separator = /[.!?]$/.test(head) ? ' ' : '. ';
  return `${head}${separator}${tail.endsWith('.') ? tail : `${tail}.`}`;
}
