import time

time.sleep(10**6)  # e.g. a download at import time that never finishes
