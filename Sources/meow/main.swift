import MEow
import Environments
print("meow")
