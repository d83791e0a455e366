import pickle, base64
import numpy as np
from sklearn.tree import DecisionTreeClassifier
from rafiki.model import BaseModel, IntegerKnob, CategoricalKnob, FixedKnob, utils, logger, dataset
from rafiki.constants import TaskType, ModelDependency
from rafiki.model.dev import test_model_class

class SkDt(BaseModel):
    @staticmethod
    def get_knob_config():
        return {'max_depth': IntegerKnob(1, 32), 'criterion': CategoricalKnob(['gini', 'entropy']), 'size': FixedKnob(8)}
    def __init__(self, **knobs):
        super().__init__(**knobs)
        self._knobs = knobs
        self._clf = DecisionTreeClassifier(max_depth=knobs.get('max_depth'), criterion=knobs.get('criterion'))
    def train(self, dataset_path):
        ds = utils.dataset.load_dataset_of_image_files(dataset_path, max_image_size=self._knobs['size'], mode='L')
        (images, classes) = zip(*[(image, image_class) for (image, image_class) in ds])
        logger.log('num classes %d' % ds.classes)
        X = np.asarray(images).reshape(len(images), -1)
        self._clf.fit(X, classes)
    def evaluate(self, dataset_path):
        ds = dataset.load_dataset_of_image_files(dataset_path, max_image_size=self._knobs['size'], mode='L')
        (images, classes) = zip(*[(image, image_class) for (image, image_class) in ds])
        X = np.asarray(images).reshape(len(images), -1)
        return sum(self._clf.predict(X) == np.array(classes)) / len(classes)
    def predict(self, queries):
        X = utils.dataset.transform_images(queries, image_size=self._knobs['size'], mode='L')
        X = np.asarray(X).reshape(len(X), -1)
        return self._clf.predict_proba(X).tolist()
    def dump_parameters(self):
        return {'clf_base64': base64.b64encode(pickle.dumps(self._clf)).decode('utf-8')}
    def load_parameters(self, params):
        self._clf = pickle.loads(base64.b64decode(params['clf_base64'].encode('utf-8')))

