import NN
import Wire
import Transport
print("bench")
