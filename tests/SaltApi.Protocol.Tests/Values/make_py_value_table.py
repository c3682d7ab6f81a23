#!/usr/bin/env python3
"""Writes py_value_table.json: Python's own str(), repr(), bool(), json key text and fnmatch results.

Run with CPython 3 from this folder: python3 make_py_value_table.py > py_value_table.json
Each value is written as a tagged tree the C# test rebuilds into our value model:
["none"], ["bool", b], ["int", "digits"], ["float", "repr"], ["str", s], ["bytes", "base64"],
["list", [...]], ["dict", [[key, value], ...]], ["datetime", "isoformat"].
"""
import base64, datetime, fnmatch, json, math

def tag(v):
    if v is None: return ["none"]
    if isinstance(v, bool): return ["bool", v]
    if isinstance(v, int): return ["int", str(v)]
    if isinstance(v, float): return ["float", repr(v)]
    if isinstance(v, str): return ["str", v]
    if isinstance(v, bytes): return ["bytes", base64.b64encode(v).decode()]
    if isinstance(v, list): return ["list", [tag(i) for i in v]]
    if isinstance(v, dict): return ["dict", [[k, tag(i)] for k, i in v.items()]]
    if isinstance(v, datetime.datetime): return ["datetime", v.isoformat()]
    raise TypeError(v)

values = [
    None, True, False, 0, 1, -1, 2**63 - 1, -2**63, 2**64 - 1,
    0.0, -0.0, 1.0, 1.5, -2.5, 0.1, 1/3, 100.0, 1e15, 1e16, 1.5e16, 123456789012345678.0, 1e22, 1e-4, 1e-5,
    0.00012, 1.7976931348623157e308, 5e-324, float("inf"), float("-inf"), float("nan"),
    "", "a", "false", "False", "0", "0.0", "no", " ", "it's", 'say "hi"', "it's \"both\"", "back\\slash",
    "tab\tnew\nret\r", "\x00\x01\x1f\x7f", "caf\u00e9", "\x80\x9f\xa0\xad", "\u2028\u200b", "snow\u2603",
    "emoji\U0001F600", "\ufeff", "\U000e0001",
    b"", b"abc", b"it's", b"\x00\xff\n\\", b'a"b\'c', b'"',
    [], [1, "a", None], [[]], [1.5, [True, b"x"]],
    {}, {"a": 1}, {"k'": "v\"", "n": None, "l": [1, 2]}, {"x": {"y": {}}},
    datetime.datetime(2024, 1, 2, 3, 4, 5), datetime.datetime(2024, 1, 2, 3, 4, 0),
    datetime.datetime(2024, 1, 2, 3, 4, 5, 6), datetime.datetime(2024, 1, 2, 0, 0, 0),
]

cases = [{"value": tag(v), "str": str(v), "repr": repr(v), "bool": bool(v)} for v in values]

# json.dumps's text for a non-string dict key (how a key reads once Salt's answer is JSON).
keys = [None, True, False, 0, -7, 2**64 - 1, 1.5, 1.0, -0.0, 1e16, 1e-5, 0.1, float("inf"), float("-inf"), float("nan"), "k"]
key_text = [{"key": tag(k), "text": next(iter(json.loads(json.dumps({k: 0}))))} for k in keys]

# fnmatch.fnmatchcase (the POSIX behaviour of fnmatch.fnmatch: no case folding).
globs = [
    ("web1", "web*"), ("web1", "web?"), ("web12", "web?"), ("Web1", "web*"), ("web1", "*"), ("", "*"),
    ("a.b", "a?b"), ("a\nb", "a*b"), ("a\nb", "a?b"), ("x", "[xyz]"), ("w", "[xyz]"), ("w", "[!xyz]"),
    ("x", "[!xyz]"), ("b", "[a-c]"), ("d", "[a-c]"), ("]", "[]]"), ("a", "[]a]"), ("!", "[!]"), ("[", "["),
    ("[a", "[a"), ("a]", "a]"), ("^", "[^]"), ("a", "[^a]"), ("\\", "[\\]"), ("a.b", "a.b"), ("axb", "a.b"),
    ("a+b", "a+b"), ("(x)", "(x)"), ("a$", "a$"), ("web1.example.com", "*.example.com"), ("example.com", "*.example.com"),
    ("minion", "min[i-j]o?"), ("test.ping", "test.*"), ("test", "test.*"), ("-", "[a-]"), ("b", "[a-]"),
    ("ab", "a[]b"), ("a]b", "a[]]b"), ("a*", "a[*]"), ("ab", "a[*]"), ("abc", "*c*"), ("", ""), ("a", ""),
]
fn = [{"name": n, "pattern": p, "match": fnmatch.fnmatchcase(n, p)} for n, p in globs]

json.dump({"generated_by": "python3 make_py_value_table.py (CPython %s)" % __import__("sys").version.split()[0],
           "values": cases, "key_text": key_text, "fnmatch": fn}, __import__("sys").stdout, indent=1, ensure_ascii=True)
print()
