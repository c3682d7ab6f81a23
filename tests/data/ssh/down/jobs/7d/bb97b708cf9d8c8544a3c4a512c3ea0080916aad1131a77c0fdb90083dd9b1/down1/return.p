¦returnƒ¦stdout ¦stderrÙ:ssh: connect to host 127.0.0.1 port 1: Connection refused
§retcodeÌÿ