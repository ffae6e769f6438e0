extension MuJoCoModels {
    /// The two-legged planar walker of gymnasium's `Walker2d-v4`, written for this project
    /// from the published physical parameters of the model gymnasium 0.29.1 ships
    /// (`walker2d.xml`).
    ///
    /// Compiled by MuJoCo it gives the same model as gymnasium's file (bodies, joints, geoms,
    /// masses, inertias, actuators, options); textures, materials, lights, the camera and
    /// colours are left out. `tools/check_mujoco_models.py` compares the two.
    ///
    /// State: `qpos` = (rootx, rootz, rooty, right thigh, leg, foot, left thigh, leg, foot),
    /// `qvel` likewise (nq = nv = 9); six motors in that joint order, gear 100, control in
    /// [-1, 1]. Timestep 0.002 s, RK4.
    ///
    /// The two legs have the same geometry; only the feet differ, in friction (right 0.9,
    /// left 1.9), as in the published model. Some lengths keep all their digits
    /// (0.19999999999999996 rather than 0.2) because masses and inertias depend on them.
    public static let walker2d: String = #"""
    <mujoco model="walker2d">
      <!-- Angles in degrees; masses and inertias from the geoms at density 1000. -->
      <compiler angle="degree" inertiafromgeom="true"/>
      <option timestep="0.002" integrator="RK4"/>

      <default>
        <!-- Leg joints: limited hinges, light armature (0.01) and damping (0.1). -->
        <joint limited="true" armature="0.01" damping="0.1"/>
        <!-- Body geoms are of contact type 1 but affinity 0: they touch the floor
             (affinity 1) but never each other. Full 3-D friction, sliding coefficient 0.7
             unless overridden, torsional and rolling 0.1. -->
        <geom contype="1" conaffinity="0" condim="3" density="1000" friction="0.7 0.1 0.1"/>
        <motor ctrllimited="true" ctrlrange="-1 1" gear="100"/>

        <!-- The torso's planar degrees of freedom (x, z, pitch) are unconstrained. -->
        <default class="planar_root">
          <joint limited="false" armature="0" damping="0" stiffness="0"/>
        </default>
        <!-- Body segments: capsules with sliding friction 0.9 (torsional, rolling 0.1). -->
        <default class="segment">
          <geom type="capsule" friction="0.9 0.1 0.1"/>
        </default>
        <!-- Knees and hips bend one way only, through 150 degrees; ankles +-45 degrees. -->
        <default class="hip_or_knee">
          <joint type="hinge" axis="0 -1 0" range="-150 0"/>
        </default>
        <default class="ankle">
          <joint type="hinge" axis="0 -1 0" range="-45 45"/>
        </default>
      </default>

      <worldbody>
        <geom name="floor" type="plane" size="40 40 40" conaffinity="1"/>

        <body name="torso" pos="0 0 1.25">
          <!-- Slides anchored at the floor; rootz's reference 1.25 makes qpos[1] the
               torso height. -->
          <joint name="rootx" class="planar_root" type="slide" axis="1 0 0" pos="0 0 -1.25"/>
          <joint name="rootz" class="planar_root" type="slide" axis="0 0 1" pos="0 0 -1.25" ref="1.25"/>
          <joint name="rooty" class="planar_root" type="hinge" axis="0 1 0" pos="0 0 0"/>
          <geom name="torso_geom" class="segment" size="0.05 0.19999999999999996"/>

          <!-- Right leg. -->
          <body name="thigh" pos="0 0 -0.19999999999999996">
            <joint name="thigh_joint" class="hip_or_knee" pos="0 0 0"/>
            <geom name="thigh_geom" class="segment" pos="0 0 -0.2250000000000001" size="0.05 0.22500000000000003"/>
            <body name="leg" pos="0 0 -0.7000000000000001">
              <joint name="leg_joint" class="hip_or_knee" pos="0 0 0.25"/>
              <geom name="leg_geom" class="segment" size="0.04 0.25"/>
              <body name="foot" pos="0.2 0 -0.35">
                <joint name="foot_joint" class="ankle" pos="-0.2 0 0.1"/>
                <!-- Horizontal foot: capsule turned -90 degrees about y. -->
                <geom name="foot_geom" class="segment" pos="-0.1 0 0.1"
                      quat="0.7071067811865476 0 -0.7071067811865475 0" size="0.06 0.1"/>
              </body>
            </body>
          </body>

          <!-- Left leg: the same, with a grippier foot. -->
          <body name="thigh_left" pos="0 0 -0.19999999999999996">
            <joint name="thigh_left_joint" class="hip_or_knee" pos="0 0 0"/>
            <geom name="thigh_left_geom" class="segment" pos="0 0 -0.2250000000000001" size="0.05 0.22500000000000003"/>
            <body name="leg_left" pos="0 0 -0.7000000000000001">
              <joint name="leg_left_joint" class="hip_or_knee" pos="0 0 0.25"/>
              <geom name="leg_left_geom" class="segment" size="0.04 0.25"/>
              <body name="foot_left" pos="0.2 0 -0.35">
                <joint name="foot_left_joint" class="ankle" pos="-0.2 0 0.1"/>
                <geom name="foot_left_geom" class="segment" friction="1.9 0.1 0.1" pos="-0.1 0 0.1"
                      quat="0.7071067811865476 0 -0.7071067811865475 0" size="0.06 0.1"/>
              </body>
            </body>
          </body>
        </body>
      </worldbody>

      <actuator>
        <motor joint="thigh_joint"/>
        <motor joint="leg_joint"/>
        <motor joint="foot_joint"/>
        <motor joint="thigh_left_joint"/>
        <motor joint="leg_left_joint"/>
        <motor joint="foot_left_joint"/>
      </actuator>
    </mujoco>
    """#
}
