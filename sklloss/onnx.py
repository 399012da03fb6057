"""ONNX export of sklloss's estimators through skl2onnx.

``import sklloss.onnx`` registers a converter with skl2onnx for each of
``SGDClassifier``, ``Perceptron``, ``SGDRegressor`` and ``SGDOneClassSVM``; then
``skl2onnx.to_onnx(model, X[:1])`` converts a fitted estimator, alone or as a step of
a scikit-learn ``Pipeline``, and the graph runs in onnxruntime (or any ONNX runtime)
without sklloss, scikit-learn or Python. It also registers one for scikit-learn's
``Nystroem`` where skl2onnx has none (the kernel approximation of the README's
novelty detector).

What a graph computes derives from the loss's description, as the estimator's
methods do: the raw scores ``X @ coef_.T + intercept_``, then the loss's link
(``sklloss.losses._link``): identity, log (``predict = exp(raw)``), logit and clipped
linear (one-vs-rest probabilities, normalised as scikit-learn normalises them) or
softmax (the multinomial model). Each link's inverse has one ONNX form here
(``_LINK_INVERSES``); a loss whose link has none cannot be converted and says so.

The outputs are skl2onnx's for scikit-learn's models:

- a classifier: ``label`` (int64 or string, the class of the largest score, as
  ``predict``) and ``probabilities`` (``predict_proba`` where the loss has it, else
  the decision scores: two classes give ``(-decision, decision)``), through skl2onnx's
  ``ZipMap`` unless ``options={id(model): {"zipmap": False}}``; option
  ``raw_scores=True`` gives the scores in place of the probabilities, ``nocl=True``
  the class indices in place of the labels;
- a regressor: ``variable`` of shape (n, 1), ``predict``;
- the one-class SVM: ``label`` (+1 inlier, -1 outlier, as ``predict``) and ``scores``
  (``decision_function``), shape (n, 1); option ``score_samples=True`` adds
  ``score_samples``.

The graph computes in the input's type: float32 input (skl2onnx's ``FloatTensorType``,
the usual one, and what scikit-learn transformers such as ``StandardScaler`` give the
next step) in float32, float64 input in float64.
"""
import numbers

import numpy as np
import scipy.sparse as sp
from onnx import TensorProto
from skl2onnx import update_registered_converter
from skl2onnx._parse import _parse_sklearn_classifier
from skl2onnx._supported_operators import sklearn_operator_name_map
from skl2onnx.common._apply_operation import apply_clip
from skl2onnx.common.data_types import (
    BooleanTensorType,
    DoubleTensorType,
    Int64TensorType,
    guess_tensor_type,
)
from skl2onnx.common.shape_calculator import (
    calculate_linear_classifier_output_shapes,
    calculate_linear_regressor_output_shapes,
)
from sklearn.kernel_approximation import Nystroem
from sklearn.utils.validation import check_is_fitted

from .linear_model import Perceptron, SGDClassifier, SGDOneClassSVM, SGDRegressor
from .losses import (
    BaseLoss,
    ClippedLinearLink,
    IdentityLink,
    LogitLink,
    LogLink,
    SoftmaxLink,
)

__all__ = []  # (importing the module is its use: it registers the converters)

# the options of skl2onnx's converters for scikit-learn's classifiers
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
    "raw_scores": [True, False],
}


# -- graph building ------------------------------------------------------------------
class _Graph:
    """Adds nodes and constants of one operator to skl2onnx's container, in the
    float type of the operator's input."""

    def __init__(self, scope, operator, container):
        self.scope, self.operator, self.container = scope, operator, container
        input_type = operator.inputs[0].type
        double = isinstance(input_type, DoubleTensorType)
        self.proto = TensorProto.DOUBLE if double else TensorProto.FLOAT
        self.dtype = np.dtype(np.float64 if double else np.float32)
        self.input = operator.inputs[0].full_name
        if isinstance(input_type, (BooleanTensorType, Int64TensorType)):
            self.input = self.node("Cast", [self.input], to=self.proto)

    def name(self, hint):
        return self.scope.get_unique_variable_name(hint)

    def constant(self, values, proto=None):
        """A constant tensor (an initializer): floats in the graph's type."""
        proto = self.proto if proto is None else proto
        array = np.asarray(values)
        if proto in (TensorProto.FLOAT, TensorProto.DOUBLE):
            array = array.astype(self.dtype)
        name = self.name("constant")
        if proto == TensorProto.STRING:
            flat = [str(value).encode("utf-8") for value in array.ravel()]
        else:
            flat = array.ravel().tolist()
        self.container.add_initializer(name, proto, list(array.shape), flat)
        return name

    def node(self, op_type, inputs, output=None, **attributes):
        """One node; returns its output's name (a new one unless ``output``)."""
        output = self.name(op_type.lower()) if output is None else output
        self.container.add_node(op_type, inputs, [output],
                                name=self.scope.get_unique_operator_name(op_type),
                                **attributes)
        return output

    def reduce_sum_rows(self, values):
        """The sum of each row, kept as a column (n, 1)."""
        if self.container.target_opset < 13:
            return self.node("ReduceSum", [values], axes=[1], keepdims=1)
        axes = self.constant([1], TensorProto.INT64)
        return self.node("ReduceSum", [values, axes], keepdims=1)

    def scores(self, coef, shift):
        """``X @ coef.T + shift``, shape (n, number of rows of coef)."""
        coef = coef.toarray() if sp.issparse(coef) else np.asarray(coef)
        coef = coef.reshape(-1, coef.shape[-1])
        product = self.node("MatMul", [self.input, self.constant(coef.T)])
        return self.node("Add", [product, self.constant(np.reshape(shift, (1, -1)))])


# -- the links' inverses: raw scores -> predictions ----------------------------------
def _identity(graph, raw):
    return raw


def _exp(graph, raw):
    return graph.node("Exp", [raw])


def _expit(graph, raw):
    # 1 / (1 + exp(-raw)): exact to the float's rounding for every raw, as scipy's
    # expit (onnxruntime's Sigmoid is an approximation)
    exp = graph.node("Exp", [graph.node("Neg", [raw])])
    return graph.node("Reciprocal", [graph.node("Add", [exp, graph.constant(1.0)])])


def _clipped_linear(graph, raw):
    # (clip(raw, -1, 1) + 1) / 2
    clipped = graph.name("clipped")
    apply_clip(graph.scope, raw, clipped, graph.container,
               min=np.array(-1, dtype=graph.dtype), max=np.array(1, dtype=graph.dtype))
    shifted = graph.node("Add", [clipped, graph.constant(1.0)])
    return graph.node("Div", [shifted, graph.constant(2.0)])


def _softmax(graph, raw):
    # (Softmax below opset 13 works on the rows of a 2-D input too)
    return graph.node("Softmax", [raw], axis=1)


# each link's inverse in ONNX (``BaseLink.inverse``), by the link's class
_LINK_INVERSES = {
    IdentityLink: _identity,
    LogLink: _exp,
    LogitLink: _expit,
    ClippedLinearLink: _clipped_linear,
    SoftmaxLink: _softmax,
}


# -- what can be converted ------------------------------------------------------------
def _loss(model):
    """The loss object, or class for a loss given by name, of an SGD estimator."""
    cls = model._loss_class()
    if cls is None or cls.name not in model._allowed_losses:
        raise ValueError(
            f"{type(model).__name__} with loss={model.loss!r} cannot be converted to "
            f"ONNX: it does not support that loss (the supported losses are "
            f"{sorted(model._allowed_losses)}).")
    return model.loss if isinstance(model.loss, BaseLoss) else cls


def _check_fitted(model):
    check_is_fitted(model, msg=(
        "This %(name)s instance is not fitted yet: fit it before converting it to "
        "ONNX."))


def _link_inverse(model):
    """The ONNX form of the inverse of ``model``'s loss's link; a clear error for a
    loss whose link has none (a custom loss object's own link, say)."""
    link = _loss(model).link
    inverse = _LINK_INVERSES.get(type(link))
    if inverse is None:
        raise NotImplementedError(
            f"{type(model).__name__} with loss={model.loss!r} cannot be converted to "
            f"ONNX: its link {link!r} has no ONNX form (sklloss.onnx converts the "
            f"links {', '.join(cls.__name__ for cls in _LINK_INVERSES)}).")
    return inverse


def _check_convertible(model):
    _check_fitted(model)
    if not isinstance(model, SGDOneClassSVM):
        _link_inverse(model)


def _label_values(model):
    """The classes as ONNX stores them: (values, proto type); integers, bools and
    floats (of integer value: scikit-learn's classifiers take no others) as int64,
    everything else as strings, as skl2onnx's classifiers' labels."""
    classes = np.asarray(model.classes_)
    if classes.dtype.kind in "biuf":  # (floats of integer value: no others are classes)
        return classes.astype(np.int64), TensorProto.INT64
    if all(isinstance(value, (numbers.Integral, np.bool_)) for value in classes):
        return classes.astype(np.int64), TensorProto.INT64
    return classes.astype(str), TensorProto.STRING


# -- parsers: check the model, then declare the outputs -------------------------------
def _parse_classifier(scope, model, inputs, custom_parsers=None):
    _check_convertible(model)
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers=custom_parsers)


def _parse_regressor(scope, model, inputs, custom_parsers=None):
    _check_convertible(model)
    operator = scope.declare_local_operator(_ALIASES[type(model)], model)
    operator.inputs = inputs
    variable = scope.declare_local_variable("variable", guess_tensor_type(inputs[0].type))
    operator.outputs.append(variable)
    return operator.outputs


def _parse_one_class(scope, model, inputs, custom_parsers=None):
    _check_convertible(model)
    operator = scope.declare_local_operator(_ALIASES[type(model)], model)
    operator.inputs = inputs
    score_type = guess_tensor_type(inputs[0].type)
    operator.outputs.append(scope.declare_local_variable("label", Int64TensorType()))
    operator.outputs.append(scope.declare_local_variable("scores", score_type))
    if scope.get_options(model, dict(score_samples=False))["score_samples"]:
        operator.outputs.append(scope.declare_local_variable("score_samples",
                                                             score_type.__class__()))
    return operator.outputs


# -- shape calculators -----------------------------------------------------------------
def _one_class_shapes(operator):
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = Int64TensorType([n])
    for output in operator.outputs[1:]:
        output.type.shape = [n, 1]


# -- converters ------------------------------------------------------------------------
def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    graph = _Graph(scope, operator, container)
    loss = _loss(model)
    scores = graph.scores(model.coef_, model.intercept_)  # (n, 1) for two classes
    two_classes = len(model.classes_) == 2

    # the label: the class of the largest score (two classes: classes_[1] where the
    # decision is positive), as predict, from the scores (not the probabilities,
    # which tie where the link saturates)
    if two_classes:
        positive = graph.node("Greater", [scores, graph.constant(0.0)])
        index = graph.node("Reshape", [graph.node("Cast", [positive], to=TensorProto.INT64),
                                       graph.constant([-1], TensorProto.INT64)])
    else:
        index = graph.node("ArgMax", [scores], axis=1, keepdims=0)
    label_output = operator.outputs[0].full_name
    if scope.get_options(model, dict(nocl=False))["nocl"]:
        graph.node("Identity", [index], label_output)
    else:
        values, proto = _label_values(model)
        graph.node("Gather", [graph.constant(values, proto), index], label_output, axis=0)

    # the probabilities, or the scores
    output = operator.outputs[1].full_name
    raw_scores = scope.get_options(model, dict(raw_scores=False))["raw_scores"]
    inverse = _link_inverse(model)
    if raw_scores or not loss.link.gives_probabilities:
        if two_classes:
            graph.node("Concat", [graph.node("Neg", [scores]), scores], output, axis=1)
        else:
            graph.node("Identity", [scores], output)
    elif loss.is_multiclass:  # one model over the classes (two: scores (0, decision))
        if two_classes:
            zero = graph.node("Sub", [scores, scores])
            scores = graph.node("Concat", [zero, scores], axis=1)
        graph.node("Identity", [inverse(graph, scores)], output)
    else:  # one-vs-rest probabilities, normalised
        probability = inverse(graph, scores)
        if two_classes:
            negative = graph.node("Sub", [graph.constant(1.0), probability])
            graph.node("Concat", [negative, probability], output, axis=1)
        else:
            # rows whose probabilities are all 0 (modified Huber: every class at
            # -1 or below) get uniform probabilities
            total = graph.reduce_sum_rows(probability)
            zero = graph.node("Equal", [total, graph.constant(0.0)])
            ones = graph.node("Add", [graph.node("Sub", [probability, probability]),
                                      graph.constant(1.0)])
            numerator = graph.node("Where", [zero, ones, probability])
            denominator = graph.node(
                "Where", [zero, graph.constant(float(len(model.classes_))), total])
            graph.node("Div", [numerator, denominator], output)


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    graph = _Graph(scope, operator, container)
    scores = graph.scores(model.coef_, model.intercept_)
    graph.node("Identity", [_link_inverse(model)(graph, scores)],
               operator.outputs[0].full_name)


def _convert_one_class(scope, operator, container):
    model = operator.raw_operator
    graph = _Graph(scope, operator, container)
    outputs = [output.full_name for output in operator.outputs]
    # decision_function = X @ coef_ - offset_ (>= 0: an inlier, +1, as predict)
    decision = graph.scores(model.coef_, -np.asarray(model.offset_))
    graph.node("Identity", [decision], outputs[1])
    outlier = graph.node("Less", [decision, graph.constant(0.0)])
    label = graph.node("Where", [outlier, graph.constant(-1, TensorProto.INT64),
                                 graph.constant(1, TensorProto.INT64)])
    graph.node("Reshape", [label, graph.constant([-1], TensorProto.INT64)], outputs[0])
    if len(outputs) > 2:  # score_samples = decision_function + offset_
        graph.node("Add", [decision, graph.constant(np.reshape(model.offset_, (1, -1)))],
                   outputs[2])


# -- scikit-learn's Nystroem (skl2onnx has no converter for it) ----------------------
# kernel -> the parameters of Nystroem that pairwise_kernels passes it
_NYSTROEM_KERNELS = {"linear": (), "rbf": ("gamma",), "poly": ("gamma", "degree", "coef0"),
                     "polynomial": ("gamma", "degree", "coef0"),
                     "sigmoid": ("gamma", "coef0")}
_NYSTROEM_DEFAULTS = {"degree": 3, "coef0": 1}


def _nystroem_kernel(model):
    """(kernel name, its parameters) as Nystroem.transform passes them."""
    _check_fitted(model)
    if model.kernel not in _NYSTROEM_KERNELS:
        raise NotImplementedError(
            f"Nystroem with kernel={model.kernel!r} cannot be converted to ONNX: "
            f"sklloss.onnx converts the kernels {sorted(_NYSTROEM_KERNELS)}.")
    params = dict(model.kernel_params or {})  # (its own attributes take precedence)
    params.update({name: getattr(model, name) for name in _NYSTROEM_KERNELS[model.kernel]
                   if getattr(model, name) is not None})
    n_features = model.components_.shape[1]
    if "gamma" in _NYSTROEM_KERNELS[model.kernel] and params.get("gamma") is None:
        params["gamma"] = 1.0 / n_features  # (the kernels' default)
    for name, default in _NYSTROEM_DEFAULTS.items():
        if name in _NYSTROEM_KERNELS[model.kernel]:
            params.setdefault(name, default)
    return ("poly" if model.kernel == "polynomial" else model.kernel), params


def _parse_nystroem(scope, model, inputs, custom_parsers=None):
    _nystroem_kernel(model)
    operator = scope.declare_local_operator("SkllossNystroem", model)
    operator.inputs = inputs
    operator.outputs.append(
        scope.declare_local_variable("variable", guess_tensor_type(inputs[0].type)))
    return operator.outputs


def _nystroem_shapes(operator):
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type.shape = [n, operator.raw_operator.normalization_.shape[0]]


def _convert_nystroem(scope, operator, container):
    model = operator.raw_operator
    graph = _Graph(scope, operator, container)
    kernel, params = _nystroem_kernel(model)
    components = np.asarray(model.components_)
    product = graph.node("MatMul", [graph.input, graph.constant(components.T)])
    if kernel == "rbf":
        # exp(-gamma |x - c|^2), |x - c|^2 = |x|^2 - 2 x.c + |c|^2 clipped at 0, as
        # scikit-learn's euclidean_distances
        squares = graph.reduce_sum_rows(graph.node("Mul", [graph.input, graph.input]))
        distance = graph.node("Add", [
            graph.node("Sub", [squares, graph.node("Mul", [product, graph.constant(2.0)])]),
            graph.constant((components ** 2).sum(axis=1).reshape(1, -1))])
        distance = graph.node("Max", [distance, graph.constant(0.0)])
        values = graph.node("Exp", [graph.node("Mul", [distance,
                                                       graph.constant(-params["gamma"])])])
    elif kernel == "linear":
        values = product
    else:  # poly: (gamma x.c + coef0)^degree; sigmoid: tanh(gamma x.c + coef0)
        affine = graph.node("Add", [
            graph.node("Mul", [product, graph.constant(params["gamma"])]),
            graph.constant(params["coef0"])])
        values = (graph.node("Pow", [affine, graph.constant(params["degree"])])
                  if kernel == "poly" else graph.node("Tanh", [affine]))
    graph.node("MatMul", [values, graph.constant(np.asarray(model.normalization_).T)],
               operator.outputs[0].full_name)


# -- registration ----------------------------------------------------------------------
_ALIASES = {
    SGDClassifier: "SkllossSGDClassifier",
    Perceptron: "SkllossPerceptron",
    SGDRegressor: "SkllossSGDRegressor",
    SGDOneClassSVM: "SkllossSGDOneClassSVM",
}

for _estimator in (SGDClassifier, Perceptron):
    update_registered_converter(
        _estimator, _ALIASES[_estimator], calculate_linear_classifier_output_shapes,
        _convert_classifier, parser=_parse_classifier, options=_CLASSIFIER_OPTIONS)
update_registered_converter(
    SGDRegressor, _ALIASES[SGDRegressor], calculate_linear_regressor_output_shapes,
    _convert_regressor, parser=_parse_regressor)
update_registered_converter(
    SGDOneClassSVM, _ALIASES[SGDOneClassSVM], _one_class_shapes, _convert_one_class,
    parser=_parse_one_class, options={"score_samples": [True, False]})
if Nystroem not in sklearn_operator_name_map:  # (skl2onnx's own, should it get one)
    update_registered_converter(
        Nystroem, "SkllossNystroem", _nystroem_shapes, _convert_nystroem,
        parser=_parse_nystroem)
del _estimator
