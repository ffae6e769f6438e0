extension MuJoCoModels {
    /// The four-legged ant of gymnasium's `Ant-v4`, written for this project from the
    /// published physical parameters of the model gymnasium 0.29.1 ships (`ant.xml`).
    ///
    /// Compiled by MuJoCo it gives the same model as gymnasium's file (bodies, joints, geoms,
    /// masses, inertias, actuators, options); textures, materials, lights, the camera,
    /// colours and the unused custom `init_qpos` numeric are left out (gymnasium's initial
    /// state is the model's `qpos0`, which the body poses and joint defaults determine).
    /// `tools/check_mujoco_models.py` compares the two.
    ///
    /// State: a free joint for the torso, `qpos[0..<7]` = position (x, y, z) and unit
    /// quaternion (w, x, y, z), `qvel[0..<6]` = linear and angular velocity; then per leg a
    /// hip (about z) and an ankle hinge: nq = 15, nv = 14. Eight motors, gear 150, control
    /// in [-1, 1], in the order hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3,
    /// ankle_3 (the right-back leg first, as in the published model). Timestep 0.01 s, RK4.
    ///
    /// The ant is light: density 5 (kg/m^3) for every geom. Each leg is three capsules of
    /// radius 0.08 pointing diagonally away from the torso sphere: a fixed stub (part of
    /// the torso body), an upper leg behind the hip and a lower leg twice as long behind
    /// the ankle.
    public static let ant: String = #"""
    <mujoco model="ant">
      <!-- Angles in degrees; masses and inertias from the geoms at density 5. -->
      <compiler angle="degree" inertiafromgeom="true"/>
      <option timestep="0.01" integrator="RK4"/>

      <default>
        <!-- Hips and ankles: limited hinges with unit armature and damping. -->
        <joint type="hinge" limited="true" armature="1" damping="1"/>
        <!-- Body geoms touch the floor but not each other; friction 1 (sliding) and 0.5
             (torsional, rolling); contacts become active 1 cm before touching. -->
        <geom contype="1" conaffinity="0" condim="3" density="5" friction="1 0.5 0.5" margin="0.01"/>
        <motor ctrllimited="true" ctrlrange="-1 1" gear="150"/>
        <default class="limb">
          <geom type="capsule" size="0.08"/>
        </default>
        <!-- Hips turn the leg in the horizontal plane, +-30 degrees. -->
        <default class="hip">
          <joint axis="0 0 1" range="-30 30"/>
        </default>
      </default>

      <worldbody>
        <geom name="floor" type="plane" size="40 40 40" conaffinity="1"/>

        <body name="torso" pos="0 0 0.75">
          <!-- Six degrees of freedom, unconstrained. -->
          <joint name="root" type="free" pos="0 0 0" limited="false" armature="0" damping="0" margin="0.01"/>
          <geom name="torso_geom" type="sphere" pos="0 0 0" size="0.25"/>

          <!-- Leg 1, towards +x +y. -->
          <body name="front_left_leg" pos="0 0 0">
            <geom name="aux_1_geom" class="limb" fromto="0 0 0 0.2 0.2 0"/>
            <body name="aux_1" pos="0.2 0.2 0">
              <joint name="hip_1" class="hip" pos="0 0 0"/>
              <geom name="left_leg_geom" class="limb" fromto="0 0 0 0.2 0.2 0"/>
              <body pos="0.2 0.2 0">
                <joint name="ankle_1" axis="-1 1 0" pos="0 0 0" range="30 70"/>
                <geom name="left_ankle_geom" class="limb" fromto="0 0 0 0.4 0.4 0"/>
              </body>
            </body>
          </body>

          <!-- Leg 2, towards -x +y. -->
          <body name="front_right_leg" pos="0 0 0">
            <geom name="aux_2_geom" class="limb" fromto="0 0 0 -0.2 0.2 0"/>
            <body name="aux_2" pos="-0.2 0.2 0">
              <joint name="hip_2" class="hip" pos="0 0 0"/>
              <geom name="right_leg_geom" class="limb" fromto="0 0 0 -0.2 0.2 0"/>
              <body pos="-0.2 0.2 0">
                <joint name="ankle_2" axis="1 1 0" pos="0 0 0" range="-70 -30"/>
                <geom name="right_ankle_geom" class="limb" fromto="0 0 0 -0.4 0.4 0"/>
              </body>
            </body>
          </body>

          <!-- Leg 3, towards -x -y. -->
          <body name="back_leg" pos="0 0 0">
            <geom name="aux_3_geom" class="limb" fromto="0 0 0 -0.2 -0.2 0"/>
            <body name="aux_3" pos="-0.2 -0.2 0">
              <joint name="hip_3" class="hip" pos="0 0 0"/>
              <geom name="back_leg_geom" class="limb" fromto="0 0 0 -0.2 -0.2 0"/>
              <body pos="-0.2 -0.2 0">
                <joint name="ankle_3" axis="-1 1 0" pos="0 0 0" range="-70 -30"/>
                <geom name="third_ankle_geom" class="limb" fromto="0 0 0 -0.4 -0.4 0"/>
              </body>
            </body>
          </body>

          <!-- Leg 4, towards +x -y. -->
          <body name="right_back_leg" pos="0 0 0">
            <geom name="aux_4_geom" class="limb" fromto="0 0 0 0.2 -0.2 0"/>
            <body name="aux_4" pos="0.2 -0.2 0">
              <joint name="hip_4" class="hip" pos="0 0 0"/>
              <geom name="rightback_leg_geom" class="limb" fromto="0 0 0 0.2 -0.2 0"/>
              <body pos="0.2 -0.2 0">
                <joint name="ankle_4" axis="1 1 0" pos="0 0 0" range="30 70"/>
                <geom name="fourth_ankle_geom" class="limb" fromto="0 0 0 0.4 -0.4 0"/>
              </body>
            </body>
          </body>
        </body>
      </worldbody>

      <actuator>
        <motor joint="hip_4"/>
        <motor joint="ankle_4"/>
        <motor joint="hip_1"/>
        <motor joint="ankle_1"/>
        <motor joint="hip_2"/>
        <motor joint="ankle_2"/>
        <motor joint="hip_3"/>
        <motor joint="ankle_3"/>
      </actuator>
    </mujoco>
    """#
}
