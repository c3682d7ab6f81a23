¦returnƒ¦stdout ¦stderrÙ2saltssh@127.0.0.1: Permission denied (publickey).
§retcodeÌÿ