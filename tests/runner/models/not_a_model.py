class NotAModel:
    @staticmethod
    def get_knob_config():
        return {}
