// The baseline: a Swift program that parses nothing (the size and start of the runtime alone).
print("ok")
