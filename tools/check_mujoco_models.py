#!/usr/bin/env python3
"""Check that our MJCF models compile to the same physics as gymnasium's.

For each model in Sources/Environments/MuJoCo/Models/*Model.swift this script

1. extracts the MJCF string from the Swift file (the text between `#\"\"\"` and `\"\"\"#`,
   with the closing delimiter's indentation removed, as Swift does);
2. compiles it and gymnasium's own XML (assets/<name>.xml of the installed gymnasium)
   with the same `mujoco` Python package;
3. compares the compiled models field by field: the sizes (nq, nv, nu, nbody, ...),
   every numeric array of mjModel that concerns physics (bodies, joints, dofs, geoms,
   actuators, tendons, ...), every field of mjOption and the model statistics. Purely
   visual fields (colours, materials, textures, lights, cameras, names, user data) are
   skipped, since our files leave those out;
4. steps both models from the same random states with the same random controls for a
   few hundred steps and requires qpos, qvel, cinert, cvel, qfrc_actuator and (after
   mj_rnePostConstraint, as gymnasium calls it) cfrc_ext to agree bit for bit;
5. runs the registered gymnasium environment (e.g. Hopper-v4) once with its own XML and
   once with ours (our compiled model swapped in), same seeds and actions, and requires identical
   observations, rewards and flags;
6. replays Tests/EnvironmentsTests/Fixtures/mujoco/<name>.json (resets' observations,
   single steps, horizons) through gymnasium's environment with our model swapped in,
   and requires every recorded number back bit for bit.

It needs the fixture-recording venv (gymnasium 0.29.1, mujoco 2.3.3, numpy < 2):

    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install "gymnasium==0.29.1" "mujoco==2.3.3" "numpy<2" imageio
    .venv-fixtures/bin/python tools/check_mujoco_models.py [hopper walker2d ...]

It exits non-zero if any model differs. It is a developer tool, not part of `make test`.
"""

import json
import re
import sys
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "Sources" / "Environments" / "MuJoCo" / "Models"
GYM_ASSETS = Path(gym.__file__).parent / "envs" / "mujoco" / "assets"

# name -> (Swift file, gymnasium asset, registered environment)
MODELS = {
    "hopper": ("HopperModel.swift", "hopper.xml", "Hopper-v4"),
    "walker2d": ("Walker2dModel.swift", "walker2d.xml", "Walker2d-v4"),
    "halfcheetah": ("HalfCheetahModel.swift", "half_cheetah.xml", "HalfCheetah-v4"),
    "ant": ("AntModel.swift", "ant.xml", "Ant-v4"),
    "humanoid": ("HumanoidModel.swift", "humanoid.xml", "Humanoid-v4"),
}

# mjModel sizes and arrays that only concern rendering, naming or user data.
COSMETIC_PREFIXES = (
    "name_", "names", "cam_", "light_", "tex_", "mat_", "skin_", "vis", "ntex", "nmat",
    "ncam", "nlight", "nskin", "nnames", "nuser_", "nkey", "key_", "ntext", "text_",
    "ncustom", "custom_", "nnumeric", "numeric_", "geom_rgba", "geom_matid", "geom_user",
    "site_rgba", "site_matid", "tendon_rgba", "tendon_matid", "body_user", "jnt_user",
    "actuator_user", "geom_group", "nstack", "nbuffer", "narena", "nuserdata", "npaths",
    "nnames_map", "names_map", "ntexdata", "tex_rgb", "ntextdata", "ncustomdata",
    "nnumericdata", "mesh_", "nmesh", "hfield_", "nhfield", "sensor_user", "tendon_user",
    "site_user", "cam_user",
)


def swift_mjcf(swift_file):
    """The MJCF text of a `public static let name: String = #\"\"\" ... \"\"\"#` literal."""
    text = (MODELS_DIR / swift_file).read_text()
    match = re.search(r'#"""\n(.*?)\n([ \t]*)"""#', text, re.S)
    if match is None:
        raise SystemExit(f"{swift_file}: no #\"\"\" ... \"\"\"# literal found")
    body, indent = match.group(1), match.group(2)
    lines = []
    for line in body.split("\n"):
        if line.strip() == "":
            lines.append("")
        elif line.startswith(indent):
            lines.append(line[len(indent):])
        else:
            raise SystemExit(f"{swift_file}: line not indented like the closing delimiter: {line!r}")
    return "\n".join(lines)


def is_cosmetic(field):
    return field.startswith(COSMETIC_PREFIXES)


def compare_models(ours, theirs):
    """Return a list of human-readable differences between two compiled models."""
    differences = []
    for field in sorted(dir(theirs)):
        if field.startswith("_") or is_cosmetic(field):
            continue
        try:
            a = getattr(theirs, field)
            b = getattr(ours, field)
        except Exception:  # properties that cannot be read for this model
            continue
        if isinstance(a, (int, np.integer)) and not isinstance(a, bool):
            if a != b:
                differences.append(f"{field}: gymnasium {a}, ours {b}")
        elif isinstance(a, np.ndarray):
            if a.shape != b.shape:
                differences.append(f"{field}: shape gymnasium {a.shape}, ours {b.shape}")
            elif a.dtype.kind in "fiub" and not np.array_equal(a, b):
                where = np.argwhere(a != b)[:3].tolist()
                differences.append(f"{field}: differs at {where}")
    for struct in ("opt", "stat"):
        a, b = getattr(theirs, struct), getattr(ours, struct)
        for field in dir(a):
            if field.startswith("_"):
                continue
            va, vb = getattr(a, field), getattr(b, field)
            if callable(va):
                continue
            if not np.array_equal(np.asarray(va), np.asarray(vb)):
                differences.append(f"{struct}.{field}: gymnasium {va}, ours {vb}")
    return differences


DATA_FIELDS = ("qpos", "qvel", "qacc", "cinert", "cvel", "qfrc_actuator", "cfrc_ext", "cfrc_int")


def compare_dynamics(ours, theirs, trials=4, steps=300):
    """Step both models from the same perturbed states; return the first mismatch or None."""
    rng = np.random.default_rng(20240601)
    for trial in range(trials):
        d_ours, d_theirs = mujoco.MjData(ours), mujoco.MjData(theirs)
        qpos = theirs.qpos0 + rng.uniform(-0.1, 0.1, theirs.nq)
        qvel = rng.normal(0.0, 0.5, theirs.nv)
        for d in (d_ours, d_theirs):
            d.qpos[:] = qpos
            d.qvel[:] = qvel
        mujoco.mj_forward(ours, d_ours)
        mujoco.mj_forward(theirs, d_theirs)
        low, high = theirs.actuator_ctrlrange[:, 0], theirs.actuator_ctrlrange[:, 1]
        for step in range(steps):
            # Controls sometimes outside the range, to exercise MuJoCo's clamping.
            ctrl = rng.uniform(1.3 * low, 1.3 * high).astype(np.float32).astype(np.float64)
            d_ours.ctrl[:] = ctrl
            d_theirs.ctrl[:] = ctrl
            mujoco.mj_step(ours, d_ours)
            mujoco.mj_step(theirs, d_theirs)
            mujoco.mj_rnePostConstraint(ours, d_ours)
            mujoco.mj_rnePostConstraint(theirs, d_theirs)
            for field in DATA_FIELDS:
                a, b = getattr(d_theirs, field), getattr(d_ours, field)
                if not np.array_equal(a, b):
                    return (f"trial {trial} step {step}: {field} differs "
                            f"(max |diff| {np.max(np.abs(a - b)):.3g})")
    return None


def with_model(env_id, model):
    """gymnasium's registered environment, its simulation swapped for `model`.

    Not every v4 environment takes `xml_file=`, so the compiled model and a fresh
    MjData replace the ones the environment built (its initial qpos/qvel are taken
    from the new model too, as MujocoEnv does).
    """
    env = gym.make(env_id)
    base = env.unwrapped
    base.model = model
    base.data = mujoco.MjData(model)
    base.init_qpos = base.data.qpos.ravel().copy()
    base.init_qvel = base.data.qvel.ravel().copy()
    return env


def compare_environment(env_id, model, seeds=(0, 1, 2), steps=300):
    """Run gymnasium's env with its XML and with ours; return the first mismatch or None."""
    for seed in seeds:
        theirs = gym.make(env_id)
        ours = with_model(env_id, model)
        o1, _ = theirs.reset(seed=seed)
        o2, _ = ours.reset(seed=seed)
        if not np.array_equal(o1, o2):
            return f"seed {seed}: reset observations differ"
        theirs.action_space.seed(seed)
        for step in range(steps):
            action = theirs.action_space.sample()
            r1 = theirs.step(action)
            r2 = ours.step(action)
            if not np.array_equal(r1[0], r2[0]):
                return f"seed {seed} step {step}: observations differ"
            if r1[1] != r2[1] or r1[2] != r2[2] or r1[3] != r2[3]:
                return f"seed {seed} step {step}: reward/terminated/truncated differ"
            if r1[2] or r1[3]:
                o1, _ = theirs.reset(seed=seed + 100 + step)
                o2, _ = ours.reset(seed=seed + 100 + step)
        theirs.close()
        ours.close()
    return None


FIXTURES = ROOT / "Tests" / "EnvironmentsTests" / "Fixtures" / "mujoco"


def replay_fixture(name, env_id, model):
    """Replay the recorded fixture (tools/record_mujoco_fixtures.py) with our model swapped
    into gymnasium's environment: fresh MjData, set_state, step. Returns a mismatch or None."""
    path = FIXTURES / f"{name}.json"
    if not path.exists():
        return "no fixture"
    document = json.loads(path.read_text())
    env = with_model(env_id, model)
    env.reset(seed=0)
    base = env.unwrapped
    limit = env
    while not hasattr(limit, "_max_episode_steps"):
        limit = limit.env

    def place(record, elapsed):
        mujoco.mj_resetData(base.model, base.data)
        base.set_state(np.array([float.fromhex(x) for x in record["qpos"]]),
                       np.array([float.fromhex(x) for x in record["qvel"]]))
        limit._elapsed_steps = elapsed

    for i, record in enumerate(document["resets"]):
        place(record, 0)
        if base._get_obs().tolist() != record["observation"]:
            return f"resets[{i}]: observation differs"
    for i, record in enumerate(document["steps"]):
        place(record, record["elapsed_steps"])
        observation, reward, terminated, truncated, _ = env.step(np.array(record["action"], dtype=np.float32))
        if ([float(x).hex() for x in base.data.qpos] != record["next_qpos"]
                or [float(x).hex() for x in base.data.qvel] != record["next_qvel"]
                or observation.tolist() != record["observation"] or float(reward) != record["reward"]
                or terminated != record["terminated"] or truncated != record["truncated"]):
            return f"steps[{i}] differs"
    for i, record in enumerate(document["horizons"]):
        place(record, 0)
        for k, action in enumerate(record["actions"]):
            observation, reward, terminated, _, _ = env.step(np.array(action, dtype=np.float32))
            if (observation.tolist() != record["observations"][k] or float(reward) != record["rewards"][k]
                    or terminated != record["terminated"][k]):
                return f"horizons[{i}] step {k} differs"
    return None


def main(names):
    failed = False
    print(f"mujoco {mujoco.__version__}, gymnasium {gym.__version__}, numpy {np.__version__}")
    for name in names:
        swift_file, asset, env_id = MODELS[name]
        if not (MODELS_DIR / swift_file).exists():
            print(f"{name}: {swift_file} missing, skipped")
            continue
        xml = swift_mjcf(swift_file)
        ours = mujoco.MjModel.from_xml_string(xml)
        theirs = mujoco.MjModel.from_xml_path(str(GYM_ASSETS / asset))
        print(f"{name}: nq {ours.nq} nv {ours.nv} nu {ours.nu} nbody {ours.nbody} "
              f"ngeom {ours.ngeom} timestep {ours.opt.timestep} "
              f"total mass {ours.body_mass.sum():.6f}")
        differences = compare_models(ours, theirs)
        for line in differences:
            print(f"  model: {line}")
        dynamics = compare_dynamics(ours, theirs)
        print(f"  dynamics: {dynamics or 'bit-identical'}")
        environment = compare_environment(env_id, ours)
        print(f"  {env_id} with our model: {environment or 'bit-identical'}")
        fixture = replay_fixture(name, env_id, ours)
        print(f"  fixture {name}.json replayed with our model: {fixture or 'bit-identical'}")
        if differences or dynamics or environment or (fixture and fixture != "no fixture"):
            failed = True
        else:
            print("  model fields: identical")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(MODELS)))
