from rafiki.model import BaseModel

class Broken(BaseModel)
    pass
