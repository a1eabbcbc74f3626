"""The multi-teacher distiller: one student, K frozen teachers, a weighting."""
import math
from contextlib import contextmanager
from functools import partial

import torch
import torch.nn as nn
from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch.func import functional_call

from mtkd_mm.errors import NonFiniteLossError
from mtkd_mm.learning import (Learner, StudentLookAhead, VirtualOptimizer,
                              look_ahead)
from mtkd_mm.registry import MODELS, TEMPERATURES, WEIGHTINGS
from mtkd_mm.structures import TeacherState
from mtkd_mm.temperatures import FixedTemperature
from mtkd_mm.views import BuildError, view_for
from mtkd_mm.weightings import PoolInfo, weighted_teacher_loss

from .teacher_pool import TeacherPool, build_model, read_model_config

# the parameters and buffers a look-ahead steps and clones
STUDENT_PARTS = ('student.', 'connectors.')


def _same_points(points, context, other_points, other_context):
    """Whether two losses compared the same points of one batch."""
    def same(a, b):
        if torch.is_tensor(a) and torch.is_tensor(b):
            return a.shape == b.shape and torch.equal(a, b)
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(
                same(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(map(same, a, b))
        return a == b

    return (points.num_samples == other_points.num_samples
            and same(points.sample_index, other_points.sample_index)
            and same(points.labels, other_points.labels)
            and same(context, other_context))


def build_own(registry, cfg, key):
    """Build an mtkd_mm part (loss, connector, weighting) in the mtkd_mm
    scope, whatever the config's ``default_scope``; None stays None. An
    unregistered type is a :class:`BuildError` naming ``key`` and listing
    the registered names; arguments the part refuses (its ``ValueError``
    or ``TypeError``) are a :class:`BuildError` naming ``key``."""
    if cfg is None:
        return None
    kind = cfg.get('type')
    if isinstance(kind, str):
        registry.import_from_location()
        if registry.get(kind) is None:
            raise BuildError(
                f"{key}.type: '{kind}' is not a registered {registry.name} "
                'of mtkd_mm; registered: '
                + ', '.join(sorted(registry.module_dict)))
    try:
        return registry.build(dict(cfg, _scope_='mtkd_mm'))
    except (ValueError, TypeError) as error:
        raise BuildError(f'{key}: {error}') from None


def loss_weight(value, key):
    """``value`` as a float if it is a finite number ≥ 0 (a negative weight
    would push the student away from its teachers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            not math.isfinite(value) or value < 0):
        raise BuildError(f'{key} must be a finite number >= 0, got {value!r}')
    return float(value)


def build_temperature(temperature):
    """A number is a :class:`FixedTemperature`; a dict a ``TEMPERATURES``
    type."""
    if isinstance(temperature, dict):
        return build_own(TEMPERATURES, temperature, 'model.temperature')
    try:
        return FixedTemperature(temperature)
    except ValueError as error:
        raise BuildError(f'model.temperature: {error}') from None


@MODELS.register_module()
class MultiTeacherDistiller(BaseModel):
    """Trains ``student`` from several frozen teachers at once: the
    student's own loss plus per-sample, per-teacher logit and feature
    losses weighted by ``weighting`` (the total loss:
    docs/methods.md#the-total-loss-and-notation). Teachers run once per
    batch, without gradients, in eval mode; ``predict`` and ``tensor`` are
    the student's own.

    Args:
        student (dict | str): model dict, config file or ``mmdet::…``.
        teachers (list[dict]): ``dict(name, config, checkpoint)`` each.
        weighting (dict): a ``WEIGHTINGS`` type (AVER, EBKD, CAMKD, …).
        temperature (float | dict): T > 0 or a ``TEMPERATURES`` type.
        logit_loss (dict | None): per-point logit loss (``KLDivergence``).
        logit_loss_weight, feature_loss_weight (float): α and β.
        feature_loss (dict | None): per-sample feature loss (``FeatureMSE``,
            ``PKD``, ``ChannelWiseDivergence``).
        connector (dict): maps a student feature level to a teacher's.
        feature_place (str, optional): module path of the distilled
            features, and ``feature_levels`` (list[int]) which outputs;
            the view's defaults when None.
        probe_size (int): side of the images that measure channels.
        teacher_precision (str): ``'fp32'`` (default), ``'bf16'`` or
            ``'fp16'`` autocast of the teachers' forwards (mmcv's RoIAlign
            in mtkd_mm's separable form, which runs in that precision);
            their outputs reach the losses in fp32.
        data_preprocessor (dict, optional): goes to the student.
    """

    def __init__(self,
                 student,
                 teachers,
                 weighting=dict(type='AVER'),
                 temperature=4.0,
                 logit_loss=dict(type='KLDivergence'),
                 logit_loss_weight=1.0,
                 feature_loss=dict(type='FeatureMSE'),
                 feature_loss_weight=5.0,
                 connector=dict(type='ConvBNReLUConnector'),
                 feature_place=None,
                 feature_levels=None,
                 probe_size=64,
                 teacher_precision='fp32',
                 data_preprocessor=None,
                 init_cfg=None):
        temperature = build_temperature(temperature)
        student_cfg = read_model_config(student, 'student', 'model.student')
        if data_preprocessor is not None:
            student_cfg.setdefault('data_preprocessor', data_preprocessor)
        student = build_model(student_cfg, 'student', 'model.student')
        super().__init__(
            data_preprocessor=student.data_preprocessor, init_cfg=init_cfg)
        self.student = student
        self.view = view_for(
            student, feature_place=feature_place,
            feature_levels=feature_levels)
        self.view.check(student, 'student')
        self.teachers = TeacherPool(teachers, student.data_preprocessor,
                                    self.view, teacher_precision)
        self.temperature = temperature
        self.logit_loss = build_own(MODELS, logit_loss, 'model.logit_loss')
        self.logit_loss_weight = loss_weight(logit_loss_weight,
                                             'model.logit_loss_weight')
        self.feature_loss = build_own(MODELS, feature_loss,
                                      'model.feature_loss')
        self.feature_loss_weight = loss_weight(feature_loss_weight,
                                               'model.feature_loss_weight')
        self.logit_teachers = self._check_teachers()
        if isinstance(temperature, Learner) and (
                self.logit_loss is None or not self.logit_teachers):
            raise BuildError(
                f'model.temperature: {type(temperature).__name__} learns the '
                'T of the logit loss, but nothing is distilled through '
                'logits (model.logit_loss is None or no teacher gives '
                'logits)')
        self.connectors, self.pool_info = self._build_connectors(
            connector, probe_size)
        self.weighting = self.build_weighting(weighting)
        self._kept_records = None
        self._looking_ahead = False
        # Learners learn in LearnerUpdateHook: DDP must not wait for their
        # gradients in the student's backward pass.
        self._ddp_params_and_buffers_to_ignore = [
            f'{part}.{name}' for part, learner in self.learners().items()
            for name in learner.state_dict(keep_vars=True)
        ]

    @property
    def teacher_names(self):
        return self.teachers.names

    def learners(self):
        """The parts that learn during distillation, by attribute name:
        ``{'weighting': MTKDRL(...)}``, see :class:`~mtkd_mm.learning.Learner`.
        """
        return {
            name: part for name, part in self.named_children()
            if isinstance(part, Learner)
        }

    def _check_teachers(self):
        """Indices of the teachers with logits; raise on a class mismatch."""
        num_classes = self.view.num_classes(self.student)
        logit_teachers = []
        for index, (name, teacher) in enumerate(self.teachers.items()):
            who = f"teacher '{name}'"
            self.view.check(teacher, who)
            reason = self.view.why_features_only(teacher)
            classes = self.view.num_classes(teacher)
            if reason is not None:
                print_log(
                    f'{who} ({type(teacher).__name__}) {reason}: it '
                    'contributes feature knowledge only', 'current')
            elif classes != num_classes:
                raise BuildError(
                    f'{who} predicts {classes} classes, the student '
                    f'{num_classes} (model.teachers[{index}].config)')
            else:
                logit_teachers.append(index)
        return logit_teachers

    @torch.no_grad()
    def _probe(self, model, size, who):
        was_training = model.training
        model.eval()
        dummy = torch.zeros(2, 3, size, size)
        features, embedding = self.view.probe(model, dummy, who)
        model.train(was_training)
        return features, embedding

    def _build_connectors(self, connector, probe_size):
        """Probe every model on dummy images; build one connector per
        teacher and feature level. Returns the connectors and a
        :class:`PoolInfo` for the weighting."""
        connectors = nn.ModuleDict()
        student_levels, _ = self._probe(self.student, probe_size, 'student')
        embedding_dims, feature_channels = [], []
        for name, teacher in self.teachers.items():
            who = f"teacher '{name}'"
            teacher_levels, embedding = self._probe(teacher, probe_size, who)
            embedding_dims.append(embedding.shape[1])
            if self.feature_loss is None:
                feature_channels.append([])
                continue
            if len(teacher_levels) != len(student_levels):
                raise BuildError(
                    f"{who}: feature_place '{self.view.feature_place}' gives "
                    f'{len(teacher_levels)} levels, the student '
                    f'{len(student_levels)} (set model.feature_levels)')
            feature_channels.append([t.shape[1] for t in teacher_levels])
            connectors[name] = nn.ModuleList([
                build_own(
                    MODELS,
                    dict(connector, in_channels=s.shape[1],
                         out_channels=t.shape[1]), 'model.connector')
                for s, t in zip(student_levels, teacher_levels)
            ])
        info = PoolInfo(
            names=self.teacher_names,
            logit_teachers=self.logit_teachers,
            embedding_dims=embedding_dims,
            feature_channels=feature_channels,
            logit_dim=self.view.logit_dim(self.student),
            feature_loss_weight=self.feature_loss_weight)
        return connectors, info

    def build_weighting(self, cfg):
        """A weighting from its config, set up for this teacher pool, whose
        declared state quantities this distiller can give."""
        weighting = build_own(WEIGHTINGS, cfg, 'model.weighting')
        try:
            weighting.setup(self.pool_info)
        except ValueError as error:
            raise BuildError(f'model.weighting: {error}') from error
        name = type(weighting).__name__
        unknown = sorted(set(weighting.reads) - set(TeacherState.QUANTITIES))
        if unknown:
            raise BuildError(
                f'model.weighting {name} reads unknown state quantities '
                f"{unknown}; known: {', '.join(TeacherState.QUANTITIES)}")
        if ('connected_ce' in weighting.reads
                and not self.view.can_classify_features()):
            raise BuildError(
                f'model.weighting {name} reads connected_ce: it classifies '
                "connected features with the teachers' heads, which "
                f'{type(self.view).__name__} supports only at its default '
                'feature place')
        return weighting

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.student(inputs, data_samples, mode)

    def loss(self, inputs, data_samples):
        """Student losses plus the weighted distillation losses."""
        losses, student, points = self.view.student_loss(
            self.student, inputs, data_samples)
        teachers = self._teacher_records(inputs, points, student)
        distils_logits = self.logit_loss is not None and bool(
            self.logit_teachers)
        temperature = (self.temperature(points, student, teachers)
                       if distils_logits else None)
        kl = self._logit_losses(student, teachers, points, temperature)
        connected, feature = self._feature_losses(student, teachers)
        learned = (self._looking_ahead
                   and self.weighting.weights_carry_gradients)
        state = TeacherState(
            self.teacher_names, self.logit_teachers, points, student,
            teachers, kl, feature, connected=connected,
            classify_connected=partial(self._classify_connected, teachers,
                                       points),
            summary_uses_probabilities=self.view.summary_uses_probabilities,
            reads=self.weighting.reads,
            reader=type(self.weighting).__name__, keep_gradients=learned)
        self._check_finite(kl, feature)
        with torch.set_grad_enabled(learned):
            weights = self.weighting(state)
        reduction = self.weighting.teacher_reduction
        result = {f'student.{k}': v for k, v in losses.items()}
        if distils_logits:
            result['distill.loss_logit'] = (
                self.logit_loss_weight *
                weighted_teacher_loss(weights.logit, kl, reduction))
            for k, w in zip(self.logit_teachers, weights.logit.mean(dim=0)):
                result[f'distill.w_logit.{self.teacher_names[k]}'] = w
            if torch.is_tensor(temperature):
                result['distill.temperature_mean'] = temperature.mean()
                result['distill.temperature_std'] = temperature.std(
                    unbiased=False)
        if self.feature_loss is not None:
            result['distill.loss_feature'] = (
                self.feature_loss_weight *
                weighted_teacher_loss(weights.feature, feature, reduction))
            for name, w in zip(self.teacher_names,
                               weights.feature.mean(dim=0)):
                result[f'distill.w_feature.{name}'] = w
        return result

    @contextmanager
    def teachers_run_once(self):
        """Within it, a loss on the batch of the previous one (the same
        ``inputs`` tensor, points and student context) reuses that loss's
        teacher records instead of running the teachers again: a
        look-ahead (MMKD) takes several virtual steps on one batch, and the
        teachers are fixed."""
        self._kept_records = {}
        try:
            yield
        finally:
            self._kept_records = None

    def student_look_ahead(self, optim_wrapper):
        """The :class:`~mtkd_mm.learning.StudentLookAhead` this distiller
        offers its learners, with the virtual steps of the student's
        ``optim_wrapper``."""
        return StudentLookAhead(
            loss=partial(self._look_ahead_loss_of_batch, optim_wrapper),
            why_not=partial(self.why_no_look_ahead, optim_wrapper),
            keep_draws=self.view.keep_draws_for_look_ahead)

    def why_no_look_ahead(self, optim_wrapper):
        """Why :meth:`look_ahead_loss` cannot model the student with
        ``optim_wrapper``, or None."""
        reason = self.view.why_no_look_ahead(self.student)
        if reason is not None:
            return reason
        try:
            VirtualOptimizer(optim_wrapper.optimizer, {})
        except ValueError as error:
            return str(error)
        if optim_wrapper.clip_grad_kwargs or (
                optim_wrapper._accumulative_counts > 1):
            return ('its look-ahead does not model optim_wrapper.clip_grad '
                    'or accumulative_counts')
        if get_world_size() > 1 and any(
                isinstance(m, nn.SyncBatchNorm)
                for m in self.student.modules()):
            return ('SyncBN has no second derivative, which the look-ahead '
                    "needs; give the student norm_cfg=dict(type='BN') (the "
                    'reference uses plain BN)')
        return None

    def _look_ahead_loss_of_batch(self, optim_wrapper, data_batch,
                                  virtual_steps, last_batch):
        data = self.data_preprocessor(data_batch, True)
        return self.look_ahead_loss(data['inputs'], data['data_samples'],
                                    optim_wrapper.optimizer, virtual_steps,
                                    last_batch)

    def look_ahead_loss(self, inputs, data_samples, optimizer, virtual_steps,
                        last_batch):
        """The student's own loss after a differentiable look-ahead of the
        student's and connectors' parameters: ``virtual_steps`` virtual
        steps of ``optimizer`` on the distillation loss, then one on the
        student's own loss. Their real values, buffers (BatchNorm
        statistics) and optimiser state are untouched; the teachers run
        once; the weights carry gradients if the weighting declares
        ``weights_carry_gradients``.

        Args:
            inputs (Tensor): (B, 3, H, W) the preprocessed batch.
            data_samples (list): its data samples.
            optimizer (torch.optim.Optimizer): the student's.
            virtual_steps (int): distillation steps before the one on the
                student's own loss.
            last_batch (bool): whether the batch is the last real step's
                (the view replays that step's random draws).

        Returns:
            Tensor: () the loss, with its graph.
        """
        names, params = {}, {}
        for name, param in self.named_parameters():
            if name.startswith(STUDENT_PARTS) and param.requires_grad:
                names[param] = name
                params[name] = param.detach().requires_grad_()
        buffers = {
            name: buffer.clone()
            for name, buffer in self.named_buffers()
            if name.startswith(STUDENT_PARTS)
        }

        def distillation(params):
            losses = functional_call(self, {**params, **buffers},
                                     (inputs, data_samples), {'mode': 'loss'})
            return self.parse_losses({
                k: v
                for k, v in losses.items() if k.startswith('distill.')
            })[0]

        def own(params):
            student = {k[len('student.'):]: v
                       for k, v in {**params, **buffers}.items()
                       if k.startswith('student.')}
            losses = functional_call(self.student, student,
                                     (inputs, data_samples), {'mode': 'loss'})
            return self.parse_losses(losses)[0]

        with self._weights_with_gradients(), self.teachers_run_once(), \
                self.view.look_ahead(self.student, len(data_samples),
                                     last_batch=last_batch):
            params = look_ahead(
                [distillation] * virtual_steps + [own], params,
                VirtualOptimizer(optimizer, names))
            return own(params)

    @contextmanager
    def _weights_with_gradients(self):
        """Weights with gradients, in the look-ahead only: the meta-gradient
        needs them, the real step does not."""
        self._looking_ahead = True
        try:
            yield
        finally:
            self._looking_ahead = False

    def _teacher_records(self, inputs, points, student):
        """Each teacher's record on the student's points."""
        kept = self._kept_records
        if kept and kept['inputs'] is inputs and _same_points(
                kept['points'], kept['context'], points, student.context):
            return kept['records']
        records = [
            self.teachers.record(name, self.view, inputs, points, student)
            for name in self.teacher_names
        ]
        if kept is not None:
            kept.update(inputs=inputs, points=points, context=student.context,
                        records=records)
        return records

    def _logit_losses(self, student, teachers, points, temperature):
        """(B, K_l) per-sample logit loss to each teacher with logits, at
        ``temperature`` (a float or (P,); None: no logit distillation)."""
        if temperature is None:
            return student.embedding.new_zeros(points.num_samples, 0)
        return torch.stack([
            points.mean_per_sample(
                self.logit_loss(student.logits, teachers[k].logits,
                                temperature, points.distribution))
            for k in self.logit_teachers
        ], dim=1)

    def _feature_losses(self, student, teachers):
        """Connected student features per teacher, and (B, K) losses."""
        if self.feature_loss is None:
            return {}, student.embedding.new_zeros(
                student.embedding.shape[0], len(teachers))
        connected, losses = {}, []
        for name, teacher in zip(self.teacher_names, teachers):
            connected[name] = [
                connector(s, t.shape[-2:]) for connector, s, t in zip(
                    self.connectors[name], student.features,
                    teacher.features)
            ]
            losses.append(
                torch.stack([
                    self.feature_loss(c, t)
                    for c, t in zip(connected[name], teacher.features)
                ]).mean(dim=0))
        return connected, torch.stack(losses, dim=1)

    def _classify_connected(self, records, points, k, levels):
        """Teacher k's head on connected student feature ``levels``: (P, C)
        logits of ``points`` (``records``: the teachers')."""
        models = [model for _, model in self.teachers.items()]
        return self.view.classify_features(models[k], records[k], levels,
                                           points)

    def _check_finite(self, kl, feature):
        """Stop with the teacher's and the loss's name on NaN or inf."""
        finite = torch.isfinite(torch.cat([kl, feature], dim=1)).all(dim=0)
        if bool(finite.all()):
            return
        bad = int((~finite).nonzero()[0])
        if bad < kl.shape[1]:
            name, loss = self.teacher_names[self.logit_teachers[bad]], (
                type(self.logit_loss).__name__)
        else:
            name = self.teacher_names[bad - kl.shape[1]]
            loss = type(self.feature_loss).__name__
        raise NonFiniteLossError(
            f"non-finite distillation loss {loss} for teacher '{name}'")
