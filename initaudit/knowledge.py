"""Weight-initialisation knowledge shared by the linter and the auditor.

Everything here mirrors ``torch/nn/init.py`` and the default ``reset_parameters`` of
``torch.nn`` modules in torch 2.13. It is plain data plus a few pure functions so that the
linter can use it without importing torch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping

SQRT2 = math.sqrt(2.0)


# --------------------------------------------------------------------------- init functions


@dataclass(frozen=True)
class InitFunction:
    """One ``torch.nn.init`` initialiser and the facts a checker needs about it."""

    name: str
    family: str  # uniform|normal|trunc_normal|orthogonal|zeros|ones|constant|eye|dirac|sparse
    scheme: str  # xavier|kaiming|orthogonal|fixed|constant|structural
    params: tuple[str, ...]  # parameters after ``tensor``, in positional order
    defaults: Mapping[str, object] = field(default_factory=dict)
    deprecated_alias: str | None = None
    min_dim: int = 0  # torch raises below this many dimensions
    max_dim: int | None = None


_INIT_FUNCTIONS = (
    InitFunction("uniform_", "uniform", "fixed", ("a", "b", "generator"),
                 {"a": 0.0, "b": 1.0}, "uniform"),
    InitFunction("normal_", "normal", "fixed", ("mean", "std", "generator"),
                 {"mean": 0.0, "std": 1.0}, "normal"),
    InitFunction("trunc_normal_", "trunc_normal", "fixed", ("mean", "std", "a", "b", "generator"),
                 {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0}),
    InitFunction("constant_", "constant", "constant", ("val",), {}, "constant"),
    InitFunction("ones_", "ones", "constant", ()),
    InitFunction("zeros_", "zeros", "constant", ()),
    InitFunction("eye_", "eye", "structural", (), {}, "eye", min_dim=2, max_dim=2),
    InitFunction("dirac_", "dirac", "structural", ("groups",), {"groups": 1}, "dirac",
                 min_dim=3, max_dim=5),
    InitFunction("xavier_uniform_", "uniform", "xavier", ("gain", "generator"),
                 {"gain": 1.0}, "xavier_uniform", min_dim=2),
    InitFunction("xavier_normal_", "normal", "xavier", ("gain", "generator"),
                 {"gain": 1.0}, "xavier_normal", min_dim=2),
    InitFunction("kaiming_uniform_", "uniform", "kaiming", ("a", "mode", "nonlinearity", "generator"),
                 {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu"}, "kaiming_uniform",
                 min_dim=2),
    InitFunction("kaiming_normal_", "normal", "kaiming", ("a", "mode", "nonlinearity", "generator"),
                 {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu"}, "kaiming_normal",
                 min_dim=2),
    InitFunction("orthogonal_", "orthogonal", "orthogonal", ("gain", "generator"),
                 {"gain": 1.0}, "orthogonal", min_dim=2),
    InitFunction("sparse_", "sparse", "fixed", ("sparsity", "std", "generator"),
                 {"std": 0.01}, "sparse", min_dim=2, max_dim=2),
)

INIT_FUNCTIONS: dict[str, InitFunction] = {f.name: f for f in _INIT_FUNCTIONS}

#: The 11 deprecated non-underscore names still exported by torch.nn.init (each forwards to
#: the underscore version with a FutureWarning). ``zeros``, ``ones`` and ``trunc_normal`` have
#: no such alias: calling them raises AttributeError, so they must never be "fixed".
DEPRECATED_ALIASES: dict[str, str] = {
    f.deprecated_alias: f.name for f in _INIT_FUNCTIONS if f.deprecated_alias
}

INIT_MODULE = "torch.nn.init"
#: How a dotted name under ``INIT_MODULE`` starts (``torch.nn.init.zeros_``).
INIT_PREFIX = INIT_MODULE + "."


# --------------------------------------------------------------------------- gains and fans

#: calculate_gain's table for names that take no parameter.
_FIXED_GAINS: dict[str, float] = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": SQRT2,
    "selu": 3.0 / 4.0,
}

def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Pure-Python twin of ``torch.nn.init.calculate_gain`` (raises ValueError the same way)."""
    if nonlinearity in _FIXED_GAINS:
        return _FIXED_GAINS[nonlinearity]
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"negative_slope {param} not a valid number")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def fans(shape: tuple[int, ...] | list[int]) -> tuple[int, int]:
    """torch's ``_calculate_fan_in_and_fan_out``: trailing dims form the receptive field.

    Kept exactly as torch computes it, quirks included: ConvTranspose weights are laid out
    (in, out/groups, *k) so their "fan_in" is out/groups * prod(k), and grouped convolutions
    over-count fan_out by the number of groups.
    """
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def init_std(function: str, shape: tuple[int, ...], **args: object) -> float | None:
    """Standard deviation an initialiser produces on a tensor of ``shape`` (None if not defined)."""
    spec = INIT_FUNCTIONS[function]
    values = {**spec.defaults, **args}
    if spec.scheme == "xavier":
        fan_in, fan_out = fans(shape)
        return float(values["gain"]) * math.sqrt(2.0 / (fan_in + fan_out))  # type: ignore[arg-type]
    if spec.scheme == "kaiming":
        fan_in, fan_out = fans(shape)
        fan = fan_in if str(values["mode"]).lower() == "fan_in" else fan_out
        gain = calculate_gain(str(values["nonlinearity"]), values["a"])  # type: ignore[arg-type]
        return gain / math.sqrt(fan)
    if spec.scheme == "orthogonal":
        rows = shape[0]
        cols = math.prod(shape[1:])
        return float(values["gain"]) / math.sqrt(max(rows, cols))  # type: ignore[arg-type]
    if function == "uniform_":
        return (float(values["b"]) - float(values["a"])) / math.sqrt(12.0)  # type: ignore[arg-type]
    if function == "normal_":
        return float(values["std"])  # type: ignore[arg-type]
    if function == "sparse_":  # ceil(sparsity * rows) zeros in every column, N(0, std) elsewhere
        rows = shape[0]
        zeros = math.ceil(float(values["sparsity"]) * rows)  # type: ignore[arg-type]
        return float(values["std"]) * math.sqrt((rows - zeros) / rows)  # type: ignore[arg-type]
    if function == "trunc_normal_":
        return truncated_std(float(values["std"]), float(values["mean"]),  # type: ignore[arg-type]
                             float(values["a"]), float(values["b"]))  # type: ignore[arg-type]
    if spec.scheme == "constant":
        return 0.0
    return None


def truncated_std(std: float, mean: float, a: float, b: float) -> float:
    """Std of N(mean, std^2) restricted to the absolute interval [a, b]."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / SQRT2))  # noqa: E731
    mass = cdf(beta) - cdf(alpha)
    if mass <= 0:
        return 0.0
    shift = (pdf(alpha) - pdf(beta)) / mass
    variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift**2
    return std * math.sqrt(max(variance, 0.0))


#: The gain of Linear/Conv's default kaiming_uniform_(a=sqrt(5)): sqrt(2 / (1 + 5)).
PYTORCH_DEFAULT_GAIN = 1 / math.sqrt(3)


def pytorch_default_std(fan_in: int) -> float:
    """Linear/Conv default: kaiming_uniform_(a=sqrt(5)) == U(+-1/sqrt(fan_in))."""
    return 1.0 / math.sqrt(3.0 * fan_in) if fan_in > 0 else 0.0


# ----------------------------------------------------------------- init and use in source code

#: In-place tensor methods that initialise, and the init function each one amounts to.
INPLACE_INIT_METHODS: dict[str, str | None] = {"zero_": "zeros_", "fill_": "constant_", "copy_": None,
                                               "normal_": "normal_", "uniform_": "uniform_"}
#: In-place arithmetic on a tensor, by method and by augmented assignment, and the operator it
#: applies: after an init (``w.normal_().mul_(s)``, ``w.uniform_(-1, 1); w *= s``) the tensor
#: holds that init with its parameters carried through the operator.
INPLACE_ARITHMETIC: dict[str, str] = {"mul_": "*", "div_": "/", "add_": "+", "sub_": "-",
                                      "*=": "*", "/=": "/", "+=": "+", "-=": "-"}
#: In-place methods that bound a drawn tensor's values and leave its scale about as it was
#: (``normal_().fmod_(2)``: a normal truncated at two standard deviations).
INPLACE_BOUNDING: frozenset[str] = frozenset({"fmod_", "remainder_", "clamp_", "clip_", "clamp_min_",
                                              "clamp_max_"})
#: Their out-of-place forms, as tensor methods and as torch functions of the tensor
#: (``torch.fmod(torch.randn(a, b), 2)``): the new tensor holds the draw bounded, its scale kept.
BOUNDING_METHODS: frozenset[str] = frozenset(method.rstrip("_") for method in INPLACE_BOUNDING)
BOUNDING_FUNCTIONS: frozenset[str] = frozenset(f"torch.{method}" for method in BOUNDING_METHODS)
#: Tensor methods returning a tensor of the same values elsewhere or in another type
#: (``torch.randn(a, b).cuda()``): a draw moved through them is the draw.
MOVING_METHODS: frozenset[str] = frozenset({"cuda", "cpu", "to", "float", "double", "half", "bfloat16", "type",
                                            "contiguous", "clone", "detach"})
#: Tensor methods returning some of a tensor's values in another arrangement
#: (``t.gather(-1, i).squeeze(-1)``): what is copied from a draw through them is drawn alike, in
#: another shape.
REARRANGING_METHODS: frozenset[str] = frozenset({"gather", "index_select", "narrow", "squeeze", "unsqueeze", "view",
                                                 "view_as", "reshape", "reshape_as", "flatten", "t", "transpose",
                                                 "permute", "expand", "expand_as"})
#: In-place methods that rescale each slice of a tensor to a norm their arguments set
#: (``renorm_(p, dim, maxnorm)``): every value is multiplied by that norm over its slice's own,
#: a factor the slice's size sets, so the scale of the draw before it does not stay.
INPLACE_RENORMALISING: frozenset[str] = frozenset({"renorm_"})
#: The parameters of an init that an in-place multiplication or division scales, and those an
#: addition or subtraction shifts, each with its default (None: it has none).
SCALED_PARAMETERS: dict[str, dict[str, float | None]] = {
    "normal_": {"mean": 0.0, "std": 1.0}, "uniform_": {"a": 0.0, "b": 1.0}, "constant_": {"val": None}}
SHIFTED_PARAMETERS: dict[str, dict[str, float | None]] = {
    "normal_": {"mean": 0.0}, "uniform_": {"a": 0.0, "b": 1.0}, "constant_": {"val": None}}
#: Inits of one fixed value, and that value: ``constant_`` with it.
CONSTANT_INITS: dict[str, float] = {"zeros_": 0.0, "ones_": 1.0}
#: Tensor factories with one value everywhere, and the init function each one amounts to.
CONSTANT_FACTORIES: dict[str, str] = {"zeros": "zeros_", "zeros_like": "zeros_", "ones": "ones_",
                                      "ones_like": "ones_", "full": "constant_", "full_like": "constant_"}
#: Factories whose values are random with unit scale, U(0, 1) and N(0, 1), whatever the fan-in.
UNIT_RANDOM_FACTORIES: dict[str, str] = {"rand": "uniform_", "randn": "normal_"}
#: Matrix products, by qualified name: their factors, each as (position, keyword) of the
#: parameter taking it (einsum: the operands after the equation, passed by position only). A raw
#: weight among them makes the product its output, as a layer's. A bias they add
#: (``F.linear(x, w, b)``, ``torch.addmm(b, x, w)``) is no factor.
PRODUCT_OPERANDS: dict[str, tuple[tuple[int, str | None], ...]] = {
    **{f"torch.{name}": ((0, "input"), (1, "mat2")) for name in ("mm", "bmm", "spmm")},
    "torch.matmul": ((0, "input"), (1, "other")), "torch.mv": ((0, "input"), (1, "vec")),
    "torch.sparse.mm": ((0, "sparse"), (1, "dense")),
    "torch.addmm": ((1, "mat1"), (2, "mat2")), "torch.baddbmm": ((1, "batch1"), (2, "batch2")),
    **{f"{namespace}{name}": ((0, "input"), (1, "weight"))
       for namespace in ("torch.nn.functional.", "torch.")
       for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")},
    "torch.nn.functional.linear": ((0, "input"), (1, "weight")),
    "torch.nn.functional.bilinear": ((0, "input1"), (1, "input2"), (2, "weight")),
    "torch.einsum": ((1, None), (2, None)),
    # (index, value, m, n, matrix): the sparse factor is no signal
    "torch_sparse.spmm": ((4, "matrix"),),
}
#: The bias a product adds, by qualified name, as (position, keyword) of the parameter taking
#: it; and the tensor methods whose receiver is that bias (``b.addmm(x, w)``).
PRODUCT_BIAS: dict[str, tuple[int, str]] = {
    **{f"{namespace}{name}": (2, "bias")
       for namespace in ("torch.nn.functional.", "torch.")
       for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")},
    "torch.nn.functional.linear": (2, "bias"), "torch.nn.functional.bilinear": (3, "bias"),
    "torch.addmm": (0, "input"), "torch.baddbmm": (0, "input"),
}
#: Module methods, and builtins, whose iterables yield (name or index, item) pairs: one loop
#: variable over them is bound to the pair, never to a module or tensor.
PAIR_METHODS: frozenset[str] = frozenset({"named_modules", "named_children", "named_parameters", "named_buffers"})
PAIR_FUNCTIONS: frozenset[str] = frozenset({"enumerate", "zip"})
#: torch functions joining a sequence of tensors into one (``torch.cat(outs, dim=1)``); where
#: every item is the same tensor (``torch.cat([w] * n)``) the result holds copies of its values.
JOINING_FUNCTIONS: frozenset[str] = frozenset({"cat", "stack", "concat", "concatenate"})
#: torch functions whose result repeats the values of the tensor they take first
#: (``torch.tile(w, (n, 1))``), as the methods ``w.repeat(n, 1)`` and ``w.expand(n, -1)`` do.
REPEATING_FUNCTIONS: frozenset[str] = frozenset({"tile", "broadcast_to", "repeat_interleave"})
#: Tensor methods that multiply, and whether their receiver is a factor (``x.mm(self.w)``) or
#: the term they add to the product of their first two arguments (``b.addmm(x, self.w)``).
MATRIX_METHODS: dict[str, bool] = {"mm": True, "matmul": True, "bmm": True, "mv": True,
                                   "addmm": False, "baddbmm": False}
#: Roots of a spread statistic (``torch.pow(var + eps, 0.5)``, ``x.std()``, ``torch.rsqrt``): a
#: module's forward that divides by one of them (or multiplies by a ``rsqrt``) normalises its
#: input, and the Parameter it then multiplies by is the norm's scale.
SPREAD_ROOTS: frozenset[str] = frozenset({"sqrt", "rsqrt", "pow", "std", "var"})
#: Of those, the reciprocal ones: normalising by a product.
RECIPROCAL_ROOTS: frozenset[str] = frozenset({"rsqrt"})
#: Namespaces of functional activations and operations (``F.relu``, ``torch.tanh``).
FUNCTIONAL_NAMESPACES: tuple[str, ...] = ("torch.nn.functional.", "torch.nn.utils.rnn.", "torch.")
#: Square roots, as in a hand-written ``1 / math.sqrt(fan_in)``.
SQRT_FUNCTIONS: tuple[str, ...] = ("math.sqrt", "numpy.sqrt", "torch.sqrt")
#: Factories that make a tensor of a given shape (``torch.Tensor(size).uniform_(-v, v)``).
SHAPE_FACTORIES: tuple[str, ...] = ("torch.Tensor", "torch.FloatTensor", "torch.empty", "torch.zeros",
                                   "torch.ones")
#: Layer attributes counting outputs (dimension 0 of an (out, in, ...) weight).
OUTPUT_SIZE_ATTRIBUTES: tuple[str, ...] = ("out_features", "out_channels")


# --------------------------------------------------------------------------- activations

#: Families group activations that want the same initialisation.
RELU, TANH, SIGMOID, SELU, LINEAR = "relu", "tanh", "sigmoid", "selu", "linear"


@dataclass(frozen=True)
class Activation:
    name: str
    family: str
    #: Gain used in practice after a layer followed by this activation (init-reference §3.1):
    #: GELU/SiLU/Mish/ELU have no torch gain and are mapped to relu's sqrt(2).
    gain: float
    #: The ``calculate_gain`` name a fix should write for this activation.
    gain_name: str


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", RELU, SQRT2, "relu"),
        Activation("relu6", RELU, SQRT2, "relu"),
        Activation("leaky_relu", RELU, calculate_gain("leaky_relu"), "leaky_relu"),
        Activation("rrelu", RELU, SQRT2, "relu"),
        Activation("prelu", RELU, calculate_gain("leaky_relu", 0.25), "leaky_relu"),
        Activation("elu", RELU, SQRT2, "relu"),
        Activation("celu", RELU, SQRT2, "relu"),
        Activation("gelu", RELU, SQRT2, "relu"),
        Activation("silu", RELU, SQRT2, "relu"),
        Activation("mish", RELU, SQRT2, "relu"),
        Activation("hardswish", RELU, SQRT2, "relu"),
        Activation("softplus", RELU, SQRT2, "relu"),
        Activation("tanh", TANH, 5.0 / 3.0, "tanh"),
        Activation("hardtanh", TANH, 5.0 / 3.0, "tanh"),
        Activation("softsign", TANH, 5.0 / 3.0, "tanh"),
        Activation("sigmoid", SIGMOID, 1.0, "sigmoid"),
        Activation("hardsigmoid", SIGMOID, 1.0, "sigmoid"),
        Activation("logsigmoid", SIGMOID, 1.0, "sigmoid"),
        Activation("selu", SELU, 1.0, "linear"),
        # No nonlinearity: logits, softmax over them, or a layer feeding another layer.
        Activation("linear", LINEAR, 1.0, "linear"),
        Activation("softmax", LINEAR, 1.0, "linear"),
        Activation("log_softmax", LINEAR, 1.0, "linear"),
    )
}

#: Squashes: activations that map a value into a bounded range or onto a distribution, with a
#: slope at 0 that is not 0. A layer whose output only passes through them is still a head: each
#: output unit keeps an error signal of its own, so a zero start breaks no symmetry, and a small
#: one starts near the squash's centre (p = 0.5, uniform attention, actions near 0).
SQUASHES: frozenset[str] = frozenset({
    "tanh", "hardtanh", "softsign", "sigmoid", "hardsigmoid", "logsigmoid", "softmax", "log_softmax",
})

#: ``torch.nn`` activation module class -> activation name.
ACTIVATION_MODULES: dict[str, str] = {
    "ReLU": "relu", "ReLU6": "relu6", "LeakyReLU": "leaky_relu", "RReLU": "rrelu",
    "PReLU": "prelu", "ELU": "elu", "CELU": "celu", "GELU": "gelu", "SiLU": "silu",
    "Mish": "mish", "Hardswish": "hardswish", "Softplus": "softplus", "Tanh": "tanh",
    "Hardtanh": "hardtanh", "Softsign": "softsign", "Sigmoid": "sigmoid",
    "Hardsigmoid": "hardsigmoid", "LogSigmoid": "logsigmoid", "SELU": "selu",
    "Softmax": "softmax", "LogSoftmax": "log_softmax",
}

#: Functional spellings: ``torch.nn.functional.<name>``, ``torch.<name>``, ``Tensor.<name>()``.
ACTIVATION_FUNCTIONS: dict[str, str] = {
    **{name: name for name in ACTIVATIONS if name != "linear"},
    "relu_": "relu", "leaky_relu_": "leaky_relu", "elu_": "elu", "selu_": "selu",
    "celu_": "celu", "rrelu_": "rrelu", "hardtanh_": "hardtanh", "tanh_": "tanh",
    "sigmoid_": "sigmoid", "silu_": "silu",
}

#: Where a leaky slope is passed, by module class or torch function: (position, keyword). The
#: method form (``x.leaky_relu(0.2)``) takes it one position earlier, the tensor being its receiver.
ACTIVATION_SLOPE_ARG: dict[str, tuple[int, str]] = {
    "LeakyReLU": (0, "negative_slope"),
    "PReLU": (1, "init"),
    "leaky_relu": (1, "negative_slope"),
    "leaky_relu_": (1, "negative_slope"),
}


def activation_gain(name: str, slope: float | None = None) -> float:
    """Recommended gain for the layer feeding ``name`` (slope for leaky_relu/prelu)."""
    if name in ("leaky_relu", "prelu") and slope is not None:
        return calculate_gain("leaky_relu", slope)
    return ACTIVATIONS[name].gain


def recommended_std(activation: str, fan_in: int, slope: float | None = None) -> float:
    """gain / sqrt(fan_in): the std that keeps the second moment through layer + activation."""
    return activation_gain(activation, slope) / math.sqrt(fan_in)


#: Family of activation that a ``calculate_gain``/``nonlinearity=`` name is designed for.
GAIN_NAME_FAMILY: dict[str, str] = {
    "relu": RELU, "leaky_relu": RELU, "tanh": TANH, "sigmoid": SIGMOID, "selu": SELU,
    "linear": LINEAR, "conv1d": LINEAR, "conv2d": LINEAR, "conv3d": LINEAR,
    "conv_transpose1d": LINEAR, "conv_transpose2d": LINEAR, "conv_transpose3d": LINEAR,
}

#: The intent of a gain below 1 written in code (``xavier_uniform_(w, gain=1 / math.sqrt(2))``,
#: attention projections' usual choice): too small for what ReLU-like units keep, fine for the
#: rest.
DAMPED = "damped"
#: The smallest gain any activation asks for is SELU's 0.75; a gain under this is a std in disguise.
STD_LIKE_GAIN_MAX = 0.1

#: Which init intents suit which activation family. An intent is the family an initialiser's
#: gain was designed for; ``glorot`` is Xavier with gain 1, which Glorot & Bengio derived for
#: tanh/sigmoid networks and which also suits linear outputs, but halves the signal per ReLU.
COMPATIBLE_INTENTS: dict[str, frozenset[str]] = {
    RELU: frozenset({RELU}),
    TANH: frozenset({TANH, "glorot", DAMPED}),
    SIGMOID: frozenset({SIGMOID, LINEAR, "glorot", DAMPED}),
    SELU: frozenset({SELU, LINEAR, "glorot", DAMPED}),
    LINEAR: frozenset({LINEAR, SIGMOID, "glorot", DAMPED}),
}

#: Numeric gains a reader recognises, mapped to the intent they express.
KNOWN_GAINS: tuple[tuple[float, str], ...] = (
    (1.0, "glorot"),
    (SQRT2, RELU),
    (5.0 / 3.0, TANH),
)


def written_gain_intent(gain: float) -> str | None:
    """The intent of a gain passed to a scheme (``xavier_uniform_(w, gain=0.5)``): a
    conventional one's (``intent_of_gain``), or :data:`DAMPED` for one between a std in disguise
    and 1, sized for linear units at most; None otherwise. (A scale written as a formula of a fan
    is not such a choice: ``1 / sqrt(fan_in)`` bounds are torch's own default, gain 1/sqrt(3).)"""
    return intent_of_gain(gain) or (DAMPED if STD_LIKE_GAIN_MAX <= gain < 1.0 else None)


def intent_of_gain(gain: float, rel_tol: float = 0.02) -> str | None:
    """Intent expressed by a literal gain value, or None if it matches no convention."""
    for value, intent in KNOWN_GAINS:
        if math.isclose(gain, value, rel_tol=rel_tol):
            return intent
    return None


# --------------------------------------------------------------------------- modules

#: Layers whose weight is a matrix (or conv kernel) applied to the incoming signal: the layers
#: whose init must match the activation that follows.
DENSE_LAYERS: frozenset[str] = frozenset({
    "Linear", "LazyLinear", "Bilinear",
    "Conv1d", "Conv2d", "Conv3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
})

#: Layers whose weight is laid out (out, in, *kernel): dimension 0 counts outputs, so a fan-in
#: read from it is the fan-out (ConvTranspose weights are (in, out/groups, *kernel)).
OUTPUT_FIRST_WEIGHTS: frozenset[str] = frozenset({
    "Linear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
})

#: Name fragments that say a size is a fan-in, and those that say it is a fan-out on purpose
#: (torchvision's ``n = k * k * out_channels`` He init in fan_out mode).
FAN_IN_WORDS: tuple[str, ...] = ("fan_in", "fanin", "fan-in", "fan in")
FAN_OUT_WORDS: tuple[str, ...] = ("fan_out", "fanout", "fan-out", "fan out")

#: Dense layers outside torch.nn that store their weight as (in_features, out_features):
#: Hugging Face's ``Conv1D`` (GPT-2, GPT-J's ancestors). Their fans are the reverse of torch's.
TRANSPOSED_DENSE_LAYERS: frozenset[str] = frozenset({"Conv1D"})

EMBEDDING_LAYERS: frozenset[str] = frozenset({"Embedding", "EmbeddingBag"})

RECURRENT_LAYERS: frozenset[str] = frozenset({
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
})

#: The activations a recurrent layer applies inside it to what its input and hidden weights
#: produce, by class: an LSTM's or GRU's gates are sigmoids and its candidate state a tanh; a
#: plain RNN applies its ``nonlinearity`` argument (``RECURRENT_NONLINEARITY_ARG``), tanh unless told.
RECURRENT_INTERNAL_ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "LSTM": ("sigmoid", "tanh"), "LSTMCell": ("sigmoid", "tanh"),
    "GRU": ("sigmoid", "tanh"), "GRUCell": ("sigmoid", "tanh"),
    "RNN": ("tanh",), "RNNCell": ("tanh",),
}
#: Where a plain RNN is told its activation: (position, keyword).
RECURRENT_NONLINEARITY_ARG: dict[str, tuple[int, str]] = {"RNN": (3, "nonlinearity"), "RNNCell": (3, "nonlinearity")}
#: Name prefixes of the recurrent parameters that feed those activations (``weight_hr``, an
#: LSTM's projection of its output, feeds none of them).
RECURRENT_GATE_WEIGHTS: tuple[str, ...] = ("weight_ih", "weight_hh")
#: The tensors a recurrent layer registers, as its first layer names them (a cell's have no
#: layer suffix): a name test keeps the other layers' and directions' alike.
RECURRENT_PARAMETERS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("RNN", "LSTM", "GRU"), ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")),
    **dict.fromkeys(("RNNCell", "LSTMCell", "GRUCell"), ("weight_ih", "weight_hh", "bias_ih", "bias_hh")),
}

ATTENTION_LAYERS: frozenset[str] = frozenset({"MultiheadAttention"})

WEIGHT_LAYERS: frozenset[str] = DENSE_LAYERS | EMBEDDING_LAYERS | RECURRENT_LAYERS | ATTENTION_LAYERS

#: Normalisation layers: they reset the scale of what they receive, and their own weight/bias
#: are meant to start at 1/0.
NORM_LAYERS: frozenset[str] = frozenset({
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
    "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "CrossMapLRN2d",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
})

#: A normalisation layer's scale (its ``weight``) starts at 1, so that the layer passes the
#: normalised signal on unchanged; drawn at random around a mean below this, most channels start
#: scaled towards 0 (and some flipped), and so does the gradient through them.
NORM_SCALE_NEAR_ZERO = 0.5

NORM_FUNCTIONS: frozenset[str] = frozenset({
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "normalize",
    "local_response_norm",
})

#: Modules and functions that change neither the kind of signal nor which activation comes
#: next: shape changes, dropout, pooling (max commutes with monotone activations, average is
#: linear), padding, resampling.
PASSTHROUGH_MODULES: frozenset[str] = frozenset({
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
    "Flatten", "Unflatten", "Identity",
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ChannelShuffle",
})

PASSTHROUGH_FUNCTIONS: frozenset[str] = frozenset({
    "flatten", "reshape", "squeeze", "unsqueeze", "transpose", "permute", "movedim",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "interpolate", "upsample", "pad", "pixel_shuffle", "pixel_unshuffle", "contiguous",
    "split", "chunk", "tensor_split", "unbind", "masked_fill",
    # torch.nn.utils.rnn: packing and padding move the values, never change them
    "pack_padded_sequence", "pad_packed_sequence", "pack_sequence", "pad_sequence",
})

#: Clamps (``torch.clamp(y, 0, 1)``, ``y.clamp_(-1, 1)``): given both bounds, a clamp only holds
#: the output in a range (pixels, a valid interval) and passes the values inside it unchanged,
#: so the layer before it is judged by what follows, as through a passthrough; with one bound
#: alone (``clamp(y, min=0)``, a ReLU) it is no such thing and stays an unknown consumer.
RANGE_CLAMPS: frozenset[str] = frozenset({"clamp", "clamp_", "clip", "clip_"})

#: Reductions that add up a tensor's values along a dimension: a sum of tensors written as one
#: call (``torch.sum(torch.stack(skips), dim=0)``), judged, like ``a + b``, by what follows it.
SUM_REDUCTIONS: frozenset[str] = frozenset({"sum"})
#: Builtins whose result, over a sequence of tensors, is made of their values as they are
#: (``sum(skips)``, ``max(outs)``, ``list(outs)``): what takes it takes each item.
VALUE_BUILTINS: frozenset[str] = frozenset({"sum", "max", "min", "list", "tuple", "reversed", "sorted"})

#: List methods that put a tensor into the list they are called on (``outputs.append(y)``).
COLLECTING_METHODS: frozenset[str] = frozenset({"append", "extend", "insert"})

PASSTHROUGH_METHODS: frozenset[str] = frozenset({
    "view", "view_as", "reshape", "reshape_as", "flatten", "unflatten", "squeeze", "unsqueeze",
    "permute", "transpose", "t", "contiguous", "movedim", "expand", "expand_as", "float",
    "to", "type_as", "clone", "split", "chunk", "tensor_split", "unbind",
    "masked_fill", "masked_fill_",
})

#: Tensor methods whose result shares its storage with the tensor (a view): an in-place write
#: into the result writes into that tensor (``w.chunk(4)[1].fill_(1)``).
VIEW_METHODS: frozenset[str] = frozenset({
    "view", "view_as", "narrow", "select", "chunk", "split", "tensor_split", "unbind", "t",
    "transpose", "permute", "diagonal", "squeeze", "unsqueeze", "expand", "as_strided", "unflatten",
})

#: Tensor methods that only change how a weight is laid out: ``x @ self.w.t()`` multiplies by ``self.w``.
WEIGHT_LAYOUT_METHODS: frozenset[str] = frozenset({"t", "transpose", "permute", "contiguous", "view", "reshape"})

#: Tensor methods that read a shape or build a new tensor from it: the signal goes nowhere.
SHAPE_METHODS: frozenset[str] = frozenset({
    "size", "dim", "ndimension", "numel", "new_zeros", "new_ones", "new_empty", "new_full",
})

#: Torch functions that read only the shape, dtype and device of their first argument
#: (``torch.rand_like(logits)``): its values flow into nothing.
SHAPE_FUNCTIONS: frozenset[str] = frozenset({
    "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like",
})

#: A signal multiplied by an activation of itself (``x * torch.sigmoid(x)``) is one activation.
SELF_GATED_ACTIVATIONS: dict[str, str] = {"sigmoid": "silu", "hardsigmoid": "hardswish"}

#: nn.Module methods that return the module itself (``Net(...).to(device)``).
MODULE_SELF_METHODS: frozenset[str] = frozenset({
    "to", "cuda", "cpu", "float", "double", "half", "bfloat16", "type", "train", "eval",
    "requires_grad_", "share_memory", "apply",
})
#: Functions that return a copy of the module they are given: the same layers.
MODULE_COPIES: frozenset[str] = frozenset({"copy.deepcopy", "copy.copy"})
#: Base classes of a module class besides ``nn.Module``'s own names: a TorchScript module is one
#: (its ``apply``, ``modules()`` and ``parameters()`` are ``nn.Module``'s).
MODULE_BASES: frozenset[str] = frozenset({
    "torch.nn.Module", "torch.nn.modules.module.Module", "torch.jit.ScriptModule", "torch.jit._script.ScriptModule",
})
#: Exceptions whose handler swallows the ValueError an init raises on a tensor with too few
#: dimensions (``try: xavier_uniform_(p) except: pass`` skips the vectors).
INIT_ERRORS: frozenset[str] = frozenset({"ValueError", "Exception", "BaseException"})

#: Private torch base classes that isinstance checks use, and the public classes they cover.
ABSTRACT_BASES: dict[str, frozenset[str]] = {
    "_ConvNd": frozenset(n for n in DENSE_LAYERS if "Conv" in n),
    "_ConvTransposeNd": frozenset(n for n in DENSE_LAYERS if "ConvTranspose" in n),
    "_BatchNorm": frozenset(n for n in NORM_LAYERS if "BatchNorm" in n),
    "_NormBase": frozenset(n for n in NORM_LAYERS if "BatchNorm" in n or "InstanceNorm" in n),
    "_InstanceNorm": frozenset(n for n in NORM_LAYERS if "InstanceNorm" in n),
    "RNNBase": frozenset({"RNN", "LSTM", "GRU"}),
    "RNNCellBase": frozenset({"RNNCell", "LSTMCell", "GRUCell"}),
}

#: Container modules whose children are known statically.
SEQUENTIAL = "Sequential"
CONTAINER_MODULES: frozenset[str] = frozenset({"Sequential", "ModuleList", "ModuleDict"})
#: Torch modules that hold deep copies of the layer they are given in a ModuleList ``layers``
#: and an optional final ``norm``: the layer's parameter name (first) and the norm's position.
LAYER_STACKS: Mapping[str, tuple[str, int]] = {
    "TransformerEncoder": ("encoder_layer", 2), "TransformerDecoder": ("decoder_layer", 2),
}


class LayerKind(str, Enum):
    """What a module is, as far as initialisation is concerned."""

    DENSE = "dense"  # a weight matrix that mixes its inputs: Linear, Conv*, Bilinear
    EMBEDDING = "embedding"
    RECURRENT = "recurrent"
    ATTENTION = "attention"
    NORM = "norm"
    ACTIVATION = "activation"
    PASSTHROUGH = "passthrough"  # shape-only or regularising: Dropout, Flatten, Identity
    CONTAINER = "container"  # Sequential, ModuleList, ModuleDict
    CUSTOM = "custom"  # a class defined in the linted file
    UNKNOWN = "unknown"


#: Kinds whose weight multiplies the signal (a norm's affine weight and an embedding table do not).
WEIGHT_MATRIX_KINDS = frozenset({LayerKind.DENSE, LayerKind.RECURRENT, LayerKind.ATTENTION})
#: Kinds that own parameters.
PARAMETERISED_KINDS = WEIGHT_MATRIX_KINDS | {LayerKind.EMBEDDING, LayerKind.NORM}

_KIND_OF_CLASSES: tuple[tuple[LayerKind, frozenset[str]], ...] = (
    (LayerKind.DENSE, DENSE_LAYERS), (LayerKind.EMBEDDING, EMBEDDING_LAYERS),
    (LayerKind.RECURRENT, RECURRENT_LAYERS), (LayerKind.ATTENTION, ATTENTION_LAYERS),
    (LayerKind.NORM, NORM_LAYERS), (LayerKind.ACTIVATION, frozenset(ACTIVATION_MODULES)),
    (LayerKind.PASSTHROUGH, PASSTHROUGH_MODULES), (LayerKind.CONTAINER, CONTAINER_MODULES | LAYER_STACKS.keys()),
)


#: The torch.nn classes that own parameters.
PARAMETERISED_CLASSES: frozenset[str] = frozenset(
    name for kind, names in _KIND_OF_CLASSES if kind in PARAMETERISED_KINDS for name in names)


def layer_kind(class_name: str) -> LayerKind | None:
    """The kind of a torch.nn class, None for a class torch.nn does not define."""
    for kind, names in _KIND_OF_CLASSES:
        if class_name in names:
            return kind
    return None


# --------------------------------------------------------------------------- recommendations


@dataclass(frozen=True)
class Recommendation:
    """The initialiser that suits an activation, in the distribution family of the original."""

    function: str  # e.g. "kaiming_uniform_"
    description: str
    nonlinearity: str | None = None  # kaiming_*: nonlinearity=
    slope: float | None = None  # kaiming_*: a= (leaky slope)
    gain_of: str | None = None  # xavier_*: gain=calculate_gain(<gain_of>)


def recommend(activation: str, distribution: str, slope: float | None = None) -> Recommendation:
    """Scheme to use before ``activation``; ``distribution`` is 'uniform' or 'normal'."""
    act = ACTIVATIONS[activation]
    dist = "normal" if distribution == "normal" else "uniform"
    if act.family == RELU:
        if act.gain_name == "leaky_relu" and slope not in (None, 0.0, 0.01):
            return Recommendation(f"kaiming_{dist}_", f"He/Kaiming ({dist}) with slope {slope!r}",
                                  nonlinearity="leaky_relu", slope=slope)
        return Recommendation(f"kaiming_{dist}_", f"He/Kaiming ({dist}, gain sqrt(2))",
                              nonlinearity="relu")
    if act.family == TANH:
        return Recommendation(f"xavier_{dist}_", f"Xavier ({dist}) with gain 5/3",
                              gain_of="tanh")
    if act.family == SELU:
        return Recommendation("kaiming_normal_", "LeCun normal (kaiming_normal_, nonlinearity='linear')",
                              nonlinearity="linear")
    return Recommendation(f"xavier_{dist}_", f"Xavier ({dist}) with gain 1")


# ---- auditor: scheme candidates
#
# The named schemes the auditor compares a tensor's measured scale with (init-reference §5.3):
# every fan-based initialiser at the common gains, plus the fixed stds seen in practice.
# ``rank`` breaks exact ties (square matrices make xavier, kaiming and LeCun coincide): the
# lower rank is the name reported, the others are listed as aliases.


@dataclass(frozen=True)
class SchemeCandidate:
    name: str
    function: str  # the torch.nn.init function that produces it
    args: Mapping[str, object]  # arguments passed to init_std
    gain: float | None
    rank: int


#: Gains a fan-based scheme is tried with, mapped to the calculate_gain name giving them.
CANDIDATE_GAINS: dict[str, float] = {"linear": 1.0, "relu": SQRT2, "tanh": 5.0 / 3.0, "selu": 0.75}

#: Fixed standard deviations of normal inits in common code (BERT/GPT .02, 1.0 = N(0,1)).
FIXED_STDS: tuple[float, ...] = (0.02, 0.01, 0.001, 1.0)

#: Largest fixed std that normalised (Transformer-style) networks use by convention (BERT and
#: GPT-2 0.02, T5/CLIP-sized fan-based stds at real widths): N(0, 1) is no such convention.
CONVENTIONAL_FIXED_STD_MAX = 0.05

#: A normalisation this many weight layers in series after a layer (the layer included: a
#: pre- or post-norm residual branch, a layer feeding a norm) rescales the signal before a
#: mismatch can compound; within that reach, a one-off factor up to this much is harmless.
RESCALED_CHAIN_MAX = 2
RESCALED_RATIO_MAX = 2.0

#: Calls that consume a sigmoid's output as a gate (squeeze-excitation scales a feature map).
GATE_CONSUMERS: frozenset[str] = frozenset({"mul", "__mul__", "__rmul__", "mul_", "__imul__"})

#: GPT-2/nanoGPT scale residual projections by 1/sqrt(2 * n_layer) from this base std.
SCALED_RESIDUAL_BASE_STD = 0.02

#: Schemes with a fixed std (not derived from the fans): HF's N(0, 0.02) and its relatives.
FIXED_STD_SCHEMES: frozenset[str] = frozenset({"normal", "trunc_normal", "scaled_normal", "scaled_trunc_normal"})


@dataclass(frozen=True)
class LibraryRecipe:
    """A library's documented init of the layers of one of its blocks that departs from the
    activation's gain on purpose; models trained from it are the library's reference results."""

    #: ``module.QualifiedClass`` of the block holding the layer (timm's ``Mlp``).
    block: str
    #: Scheme names (as ``auditor/identify/schemes.py`` names them) the recipe gives the block's weights.
    schemes: frozenset[str]
    #: The activation the layer feeds in that block.
    activation: str
    why: str


LIBRARY_RECIPES: tuple[LibraryRecipe, ...] = (
    LibraryRecipe(
        "timm.layers.mlp.Mlp", frozenset({"xavier_uniform"}), "gelu",
        "timm's weight_init='jax' recipe (the original ViT's JAX init): Xavier-uniform in the "
        "pre-norm MLP, which the reference ViT weights were trained from"),
    LibraryRecipe(
        "timm.layers.mlp.ConvMlp", frozenset({"xavier_uniform"}), "gelu",
        "timm's ViT-jax init of its transformer blocks (maxxvit._init_transformer, CoAtNet/MaxViT): "
        "Xavier-uniform in the 1x1-convolution MLP"),
)


def library_recipe(block: str | None, scheme: str, activation: str | None) -> LibraryRecipe | None:
    return next((recipe for recipe in LIBRARY_RECIPES if recipe.block == block
                 and scheme in recipe.schemes and recipe.activation == activation), None)


#: Below this many elements a tensor's fitted scheme name is a guess (a 2x2 talking-heads
#: projection): rules judge its std, never which scheme it was named.
TINY_TENSOR_ELEMENTS = 64

#: Where no forward pass tells the activation, a dense weight this many times off every
#: fan-based scheme's std (any gain, fan_in or fan_out, Xavier, torch's default) is flagged.
NO_FORWARD_FACTOR = 3.0


def scheme_stds(fan_in: int, fan_out: int) -> tuple[float, ...]:
    """The stds the usual fan-based schemes give a layer of these fans: every candidate gain
    over sqrt(fan_in) and over sqrt(fan_out), Xavier's, and torch's default."""
    gains = tuple(CANDIDATE_GAINS.values())
    return (tuple(g / math.sqrt(fan_in) for g in gains) + tuple(g / math.sqrt(fan_out) for g in gains)
            + (math.sqrt(2.0 / (fan_in + fan_out)), 1 / math.sqrt(3 * fan_in)))


#: Relative difference under which two schemes' stds are one init (the fit cannot tell them apart:
#: sqrt(2 / 1024) == 0.75 / sqrt(288), He fan_out for ReLU and fan_in with SELU's gain).
ALIAS_REL_TOL = 0.02


def alias_intents(std: float, fan_in: int, fan_out: int, rel_tol: float = ALIAS_REL_TOL) -> frozenset[str]:
    """The intents (as ``COMPATIBLE_INTENTS`` names them) of every fan-based scheme whose std is
    ``std`` within ``rel_tol``: equal schemes are aliases, and a tensor is what any of them says."""
    found: set[str] = set()
    for gain_name, gain in CANDIDATE_GAINS.items():
        stds = (gain / math.sqrt(fan_in), gain / math.sqrt(fan_out), gain * math.sqrt(2.0 / (fan_in + fan_out)))
        if any(abs(math.log(std / scheme_std)) <= math.log1p(rel_tol) for scheme_std in stds):
            found.add("glorot" if gain_name == "linear" else GAIN_NAME_FAMILY[gain_name])
    return frozenset(found)


def _scheme_candidates() -> tuple[SchemeCandidate, ...]:
    found: list[SchemeCandidate] = []
    for dist in ("uniform", "normal"):
        for gain_name, gain in CANDIDATE_GAINS.items():
            fan_in_name = f"lecun_{dist}" if gain_name == "linear" else f"kaiming_{dist}"
            found.append(SchemeCandidate(
                fan_in_name, f"kaiming_{dist}_", {"nonlinearity": gain_name, "mode": "fan_in"},
                gain, 0 if gain_name == "relu" else 2 if gain_name == "linear" else 4))
            found.append(SchemeCandidate(
                f"kaiming_{dist}_fan_out", f"kaiming_{dist}_",
                {"nonlinearity": gain_name, "mode": "fan_out"}, gain, 5))
            found.append(SchemeCandidate(
                f"xavier_{dist}", f"xavier_{dist}_", {"gain": gain}, gain,
                1 if gain_name == "linear" else 3))
    found.extend(SchemeCandidate("normal", "normal_", {"std": std}, None, 6) for std in FIXED_STDS)
    return tuple(found)


SCHEME_CANDIDATES: tuple[SchemeCandidate, ...] = _scheme_candidates()

#: Parameter-name fragments of residual-branch output projections (GPT-2 ``c_proj``, Llama
#: ``o_proj``/``down_proj``, torch ``out_proj``, ``fc2``): small or scaled inits are conventional.
RESIDUAL_OUTPUT_NAMES: tuple[str, ...] = (
    "c_proj", "o_proj", "out_proj", "down_proj", "dense_4h_to_h", "fc2", "w2", "proj_out",
)

#: Extra shape-only tensor calls the auditor's tracer propagates through (splits and indexing
#: keep the producing layer, e.g. SwiGLU's ``chunk``).
TRACE_PASSTHROUGH: frozenset[str] = frozenset({
    "chunk", "split", "unbind", "narrow", "select", "__getitem__", "tensor_split", "split_with_sizes",
    "detach", "type", "half", "bfloat16", "double",
})

#: The signal criterion of init-reference §6: first-to-last ratios must stay inside this band.
SIGNAL_RATIO_BAND: tuple[float, float] = (0.1, 10.0)



def parameter_ndim(class_name: str, param: str) -> int | None:
    """Number of dimensions of a built-in module's parameter (None when not known or absent)."""
    if param in ("bias", "in_proj_bias") or param.startswith(("bias_ih", "bias_hh")) or class_name in NORM_LAYERS:
        return 1
    if param == "weight":
        if class_name in ("Linear", "LazyLinear") or class_name in EMBEDDING_LAYERS:
            return 2
        if class_name == "Bilinear":
            return 3
        for dims in (1, 2, 3):
            if class_name.endswith(f"{dims}d") and "Conv" in class_name:
                return dims + 2
    if param == "in_proj_weight" or param.startswith(("weight_ih", "weight_hh", "weight_hr")):
        return 2
    return None


#: Name fragments of parameters for which N(0, 1) is the usual start (embedding tables, learned
#: tokens and positions): not "unscaled" weights.
EMBEDDING_LIKE_NAMES: tuple[str, ...] = (
    "embed", "token", "pos", "query", "queries", "cls", "codebook", "prompt", "latent", "mask",
)

#: Spellings of a projection matrix's name, which no embedding-like fragment overrides
#: (``W_query`` projects; a learned ``query`` token does not).
_PROJECTION_NAME = re.compile(r"(?:^w_|_w$|^w$|weight|proj|kernel)", re.IGNORECASE)


def is_embedding_like(name: str) -> bool:
    """Named like a table or a learned token (N(0, 1) is their usual start), not a projection."""
    lowered = name.lower()
    return any(f in lowered for f in EMBEDDING_LIKE_NAMES) and not _PROJECTION_NAME.search(name)


# --------------------------------------------------------------------------- intentional inits

#: Name fragments of tensors that are zero- or constant-initialised on purpose (init-reference
#: §3.2): LoRA's B (or up) matrix, ControlNet zero convolutions, adaLN-Zero modulation, gates,
#: ReZero residual weights and scalars, and layer-scale style parameters.
INTENTIONAL_ZERO_NAMES: tuple[str, ...] = (
    "lora_b", "lora_up", "lora_embedding_a", "zero_conv", "zero_linear", "zero_module", "zero_init",
    "adaln_modulation", "adaln", "modulation", "gate", "gating", "rezero", "resweight",
    "res_weight", "alpha", "layer_scale", "ls1", "ls2", "gamma",
)


def intentional_zero_fragment(path: str) -> str | None:
    """The fragment of :data:`INTENTIONAL_ZERO_NAMES` that marks the dotted ``path`` of a layer or
    parameter as deliberately zero- or constant-initialised, or None.

    Case-insensitive. A fragment matches a whole dotted part, a ``_``-separated prefix or suffix
    of one (``gate_proj``, ``attn_gate``) or, when longer than four letters, any part holding it
    (``adaLN_modulation2``); short fragments must not match inside words (``aggregate``).
    """
    for part in path.lower().split("."):
        for fragment in INTENTIONAL_ZERO_NAMES:
            if part == fragment or part.startswith(fragment + "_") or part.endswith("_" + fragment) \
                    or (len(fragment) > 4 and fragment in part):
                return fragment
    return None


#: Pairs of low-rank factor names: one of each pair starts at zero while the other is random.
LOW_RANK_PAIRS: tuple[tuple[str, str], ...] = (
    ("lora_a", "lora_b"), ("lora_down", "lora_up"), ("a", "b"), ("down", "up"),
)
