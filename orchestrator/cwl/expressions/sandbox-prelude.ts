/**
 * Runs once in every QuickJS context, before the expressionLib. It defines the globals `inputs`,
 * `self` and `runtime` as getters over the JSON texts last sent by the host (which sends a text only
 * when the value changed). `inputs` and `runtime` are parsed once, on first use, and deep-frozen, so
 * evaluations share them and none can change what the next one sees. An expression that mutates them
 * (sorting `inputs.files` in place, say) throws on the frozen value; it is then run once more with
 * private, mutable copies — what cwltool gives every expression — and that second run decides.
 * `self` is parsed afresh for every evaluation.
 *
 * It returns `{ run, drain }`. `run(fn, inputs?, runtime?, self?)` calls a compiled expression and
 * answers one string: `n` (undefined or not JSON), `r<json>` (the result), `p` (a Promise, or a value
 * holding one), `e<Name: message>` (a JavaScript exception) or `0` (`null` was thrown: what QuickJS
 * throws when it cannot even allocate its out-of-memory error). Only what cannot be caught (an
 * interrupt, running out of memory while reporting) reaches the host as a QuickJS error. `console.*`
 * lines are kept, up to 100, for `drain`.
 */
export const SANDBOX_PRELUDE = String.raw`(function (global) {
  'use strict';
  var parse = JSON.parse, stringify = JSON.stringify, create = Object.create, freeze = Object.freeze;
  var keys = Object.keys, isArray = Array.isArray, map = Array.prototype.map;
  // Async functions make promises of this constructor whatever the expressions do to the global.
  var OwnPromise = Promise;
  var sources = { inputs: 'null', runtime: 'null', self: 'null' };
  var shared = create(null);
  var local = create(null);
  var copying = false, touched = false;

  function deepFreeze(root) {
    var pending = [root];
    while (pending.length) {
      var value = pending.pop();
      if (value === null || typeof value !== 'object') continue;
      freeze(value);
      if (isArray(value)) for (var i = 0; i < value.length; i++) pending.push(value[i]);
      else for (var k = keys(value), j = 0; j < k.length; j++) pending.push(value[k[j]]);
    }
    return root;
  }

  ['inputs', 'self', 'runtime'].forEach(function (name) {
    Object.defineProperty(global, name, {
      get: function () {
        if (name in local) return local[name];
        // self changes on almost every call and is often edited (outputEval): always a private copy.
        if (copying || name === 'self') return (local[name] = parse(sources[name]));
        touched = true;
        return name in shared ? shared[name] : (shared[name] = deepFreeze(parse(sources[name])));
      },
      set: function (value) { local[name] = value; },
      enumerable: true
    });
  });

  function text(value) {
    if (typeof value === 'string') return value;
    try { var json = stringify(value); return json === undefined ? String(value) : json; } catch (e) { return String(value); }
  }
  function describe(error) {
    if (error === null) return '0';
    return 'e' + (error instanceof Error ? String(error.name) + ': ' + String(error.message) : 'uncaught ' + text(error));
  }
  // A promise is written as {}: only a result whose JSON has an empty object is searched for one.
  function holdsPromise(value) {
    var found = false;
    stringify(value, function (key, v) { if (v instanceof OwnPromise) found = true; return v; });
    return found;
  }
  function answer(result) {
    if (result instanceof OwnPromise) return 'p';
    var json = stringify(result);
    if (json === undefined) return 'n';
    return json.indexOf('{}') >= 0 && holdsPromise(result) ? 'p' : 'r' + json;
  }

  var lines = [];
  function keep(level) {
    return function () {
      if (lines.length >= 100) return;
      var line = level + ': ' + map.call(arguments, text).join(' ');
      lines.push(line.length > 1000 ? line.slice(0, 1000) + '...' : line);
    };
  }
  global.console = { log: keep('log'), info: keep('info'), warn: keep('warn'), error: keep('error'), debug: keep('debug') };

  function source(name, json) {
    if (json === undefined) return;
    sources[name] = json;
    delete shared[name];
  }

  return {
    run: function (fn, inputs, runtime, self) {
      source('inputs', inputs);
      source('runtime', runtime);
      source('self', self);
      var logged = lines.length;
      local = create(null);
      copying = false;
      touched = false;
      try {
        return answer(fn());
      } catch (error) {
        if (!touched) return describe(error);
      }
      lines.length = logged;
      local = create(null);
      copying = true;
      try {
        return answer(fn());
      } catch (error) {
        return describe(error);
      } finally {
        local = create(null);
        copying = false;
      }
    },
    drain: function () {
      var out = stringify(lines);
      lines = [];
      return out;
    }
  };
})(globalThis)`;
