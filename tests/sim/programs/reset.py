import machine

print("resetting")
machine.reset()
print("not reached")
