import test from 'ava';
import { PassThrough } from 'node:stream';
import { wantsColor, type Io } from './output.ts';

function io(env: NodeJS.ProcessEnv, tty: boolean): Io {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  return { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env, cwd: '/' };
}

test('wantsColor: only on a terminal by default', (t) => {
  t.true(wantsColor(io({}, true)));
  t.false(wantsColor(io({}, false)));
});

test('wantsColor: NO_COLOR wins, even over FORCE_COLOR; an empty NO_COLOR does not count', (t) => {
  t.false(wantsColor(io({ NO_COLOR: '1' }, true)));
  t.false(wantsColor(io({ NO_COLOR: '1', FORCE_COLOR: '1' }, true)));
  t.true(wantsColor(io({ NO_COLOR: '' }, true)));
});

test('wantsColor: FORCE_COLOR forces colour into a pipe, FORCE_COLOR=0 does not', (t) => {
  t.true(wantsColor(io({ FORCE_COLOR: '1' }, false)));
  t.false(wantsColor(io({ FORCE_COLOR: '0' }, false)));
});
