import { describe, expect, it } from 'vitest';
import { classificationProblems } from './classification.js';

describe('classificationProblems', () => {
  it.each([
    [{ responsibility: 'own', upstreamParty: null }, []],
    [{ responsibility: 'external', upstreamParty: undefined }, []],
    [{ responsibility: null, upstreamParty: null }, []],
    [{ responsibility: 'upstream', upstreamParty: 'Otis Elevators' }, []],
    [{ responsibility: 'upstream', upstreamParty: null }, ["is required when responsibility is 'upstream'"]],
    [{ responsibility: 'own', upstreamParty: 'Otis Elevators' }, ["is only for responsibility 'upstream'"]],
    [{ responsibility: null, upstreamParty: 'Otis Elevators' }, ["is only for responsibility 'upstream'"]],
  ])('%o → %o', (state, messages) => {
    const problems = classificationProblems(state);
    expect(problems.map((problem) => problem.message)).toEqual(messages);
    for (const problem of problems) expect(problem.field).toBe('body.upstreamParty');
  });
});
