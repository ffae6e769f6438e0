extension MuJoCoModels {
    /// The one-legged planar hopper of gymnasium's `Hopper-v4`, written for this project from
    /// the published physical parameters of the model gymnasium 0.29.1 ships (`hopper.xml`).
    ///
    /// Compiled by MuJoCo it gives the same model as gymnasium's file: same bodies, joints,
    /// geoms, masses, inertias, actuators and options; only the cosmetics (textures,
    /// materials, lights, the tracking camera, colours) are left out.
    /// `tools/check_mujoco_models.py` compares the two, field by field and step by step.
    ///
    /// State: `qpos` = (rootx, rootz, rooty, thigh, leg, foot), `qvel` likewise (nq = nv = 6);
    /// three motors (thigh, leg, foot), gear 200, control in [-1, 1]. Timestep 0.002 s, RK4.
    ///
    /// A few lengths are written with all their digits (0.19999999999999996, not 0.2): they
    /// are the values the published model was generated with, and the masses and inertias
    /// (derived from the capsules' volume at density 1000) depend on them to the last bit.
    public static let hopper: String = #"""
    <mujoco model="hopper">
      <!-- Angles in degrees; every body's mass and inertia come from its geoms
           (density 1000, MuJoCo's default). -->
      <compiler angle="degree" inertiafromgeom="true"/>
      <option timestep="0.002" integrator="RK4"/>

      <default>
        <!-- Leg joints: limited hinges with unit armature and damping. -->
        <joint limited="true" armature="1" damping="1"/>
        <!-- Every geom collides with every other (contype = conaffinity = 1), frictionless
             normal-only contacts (condim 1) unless a geom says otherwise, and a soft
             contact model (solref 0.02 s, damping ratio 1; solimp 0.8 0.8 0.01) with a
             1 mm margin. -->
        <geom contype="1" conaffinity="1" condim="1" margin="0.001" solref="0.02 1" solimp="0.8 0.8 0.01"/>
        <!-- All three motors are alike. -->
        <motor ctrllimited="true" ctrlrange="-1 1" gear="200"/>

        <!-- The three planar degrees of freedom of the torso (x, z, pitch) are free:
             no limit, no armature, no damping, no stiffness. -->
        <default class="planar_root">
          <joint limited="false" armature="0" damping="0" stiffness="0"/>
        </default>
        <!-- Body segments slide on the floor with friction 0.9 (the foot overrides it). -->
        <default class="segment">
          <geom type="capsule" friction="0.9"/>
        </default>
      </default>

      <worldbody>
        <!-- The floor: a plane with full 3-D friction (condim 3), friction 1 (default). -->
        <geom name="floor" type="plane" size="20 20 0.125" condim="3"/>

        <body name="torso" pos="0 0 1.25">
          <!-- The root slides are anchored at the floor; rootz's reference 1.25 makes
               qpos[1] the torso height above the floor rather than its displacement. -->
          <joint name="rootx" class="planar_root" type="slide" axis="1 0 0" pos="0 0 -1.25"/>
          <joint name="rootz" class="planar_root" type="slide" axis="0 0 1" pos="0 0 -1.25" ref="1.25"/>
          <joint name="rooty" class="planar_root" type="hinge" axis="0 1 0" pos="0 0 0"/>
          <!-- Torso: capsule of radius 0.05 along z, half-length just under 0.2. -->
          <geom name="torso_geom" class="segment" size="0.05 0.19999999999999996"/>

          <body name="thigh" pos="0 0 -0.19999999999999996">
            <joint name="thigh_joint" type="hinge" axis="0 -1 0" pos="0 0 0" range="-150 0"/>
            <geom name="thigh_geom" class="segment" pos="0 0 -0.2250000000000001" size="0.05 0.22500000000000003"/>

            <body name="leg" pos="0 0 -0.7000000000000001">
              <joint name="leg_joint" type="hinge" axis="0 -1 0" pos="0 0 0.25" range="-150 0"/>
              <geom name="leg_geom" class="segment" size="0.04 0.25"/>

              <body name="foot" pos="0.13 0 -0.35">
                <joint name="foot_joint" type="hinge" axis="0 -1 0" pos="-0.13 0 0.1" range="-45 45"/>
                <!-- The foot lies horizontally (capsule turned by -90 degrees about y), and
                     grips harder than the rest of the body. -->
                <geom name="foot_geom" class="segment" friction="2" pos="-0.065 0 0.1"
                      quat="0.7071067811865476 0 -0.7071067811865475 0" size="0.06 0.195"/>
              </body>
            </body>
          </body>
        </body>
      </worldbody>

      <actuator>
        <motor joint="thigh_joint"/>
        <motor joint="leg_joint"/>
        <motor joint="foot_joint"/>
      </actuator>
    </mujoco>
    """#
}
