extension MuJoCoModels {
    /// The 3-D humanoid of gymnasium's `Humanoid-v4`, written for this project from the
    /// published physical parameters of the model gymnasium 0.29.1 ships (`humanoid.xml`).
    ///
    /// Compiled by MuJoCo it gives the same model as gymnasium's file (bodies, joints, geoms,
    /// masses, inertias, tendons, actuators, options); textures, materials, lights, cameras,
    /// fog, colours, the empty keyframes and the geoms' user data are left out.
    /// `tools/check_mujoco_models.py` compares the two.
    ///
    /// State: a free joint for the torso (`qpos[0..<7]` = position and unit quaternion w, x,
    /// y, z; `qvel[0..<6]` = linear and angular velocity), then 17 hinges: abdomen (z, y, x),
    /// right hip (x, z, y), right knee, left hip (x, z, y), left knee, right shoulder (1, 2),
    /// right elbow, left shoulder (1, 2), left elbow: nq = 24, nv = 23. 14 bodies (world
    /// included). 17 motors, control in [-0.4, 0.4], gears 100 (abdomen, hips x/z), 300
    /// (hips y), 200 (knees), 25 (arms), in the order of the `<actuator>` list below, which
    /// differs from the joint order (abdomen_y comes before abdomen_z).
    ///
    /// Options: timestep 0.003 s, RK4, PGS solver with 50 iterations.
    ///
    /// The published model is slightly asymmetric and so is this one: the left hip's y joint
    /// has armature 0.01 where the right one has 0.008, and the left knee has a stiffness of
    /// 1 where the right one has none. Two fixed tendons (hip y minus knee, per leg) are
    /// declared without limits, springs or damping; they do not act on the dynamics.
    public static let humanoid: String = #"""
    <mujoco model="humanoid">
      <!-- Angles in degrees; masses and inertias from the geoms at density 1000. -->
      <compiler angle="degree" inertiafromgeom="true"/>
      <option timestep="0.003" integrator="RK4" solver="PGS" iterations="50"/>

      <default>
        <!-- Limited hinges with unit armature and damping unless a joint says otherwise. -->
        <joint type="hinge" limited="true" armature="1" damping="1"/>
        <!-- Every geom collides with every other, normal-only contacts (condim 1), 1 mm
             margin. -->
        <geom contype="1" conaffinity="1" condim="1" margin="0.001"/>
        <motor ctrllimited="true" ctrlrange="-0.4 0.4"/>
        <!-- Abdomen and hips: stiff, well-damped joints. -->
        <default class="trunk">
          <joint armature="0.02" damping="5"/>
        </default>
        <default class="hip">
          <joint armature="0.01" damping="5" pos="0 0 0"/>
        </default>
      </default>

      <worldbody>
        <!-- The floor alone has 3-D friction (1, 0.1, 0.1). -->
        <geom name="floor" type="plane" size="20 20 0.125" condim="3" friction="1 0.1 0.1"/>

        <body name="torso" pos="0 0 1.4">
          <joint name="root" type="free" pos="0 0 0" limited="false" armature="0" damping="0" stiffness="0"/>
          <!-- Chest (capsule across y), head (sphere), upper waist. -->
          <geom name="torso1" type="capsule" fromto="0 -0.07 0 0 0.07 0" size="0.07"/>
          <geom name="head" type="sphere" pos="0 0 0.19" size="0.09"/>
          <geom name="uwaist" type="capsule" fromto="-0.01 -0.06 -0.12 -0.01 0.06 -0.12" size="0.06"/>

          <!-- Lower waist, slightly pitched, turning about z and y at a common pivot. -->
          <body name="lwaist" pos="-0.01 0 -0.26" quat="1 0 -0.002 0">
            <geom name="lwaist" type="capsule" fromto="0 -0.06 0 0 0.06 0" size="0.06"/>
            <joint name="abdomen_z" class="trunk" axis="0 0 1" pos="0 0 0.065" range="-45 45" stiffness="20"/>
            <joint name="abdomen_y" class="trunk" axis="0 1 0" pos="0 0 0.065" range="-75 30" stiffness="10"/>

            <body name="pelvis" pos="0 0 -0.165" quat="1 0 -0.002 0">
              <joint name="abdomen_x" class="trunk" axis="1 0 0" pos="0 0 0.1" range="-35 35" stiffness="10"/>
              <geom name="butt" type="capsule" fromto="-0.02 -0.07 0 -0.02 0.07 0" size="0.09"/>

              <!-- Right leg: hip (x, z, y), knee, spherical foot. -->
              <body name="right_thigh" pos="0 -0.1 -0.04">
                <joint name="right_hip_x" class="hip" axis="1 0 0" range="-25 5" stiffness="10"/>
                <joint name="right_hip_z" class="hip" axis="0 0 1" range="-60 35" stiffness="10"/>
                <joint name="right_hip_y" class="hip" axis="0 1 0" range="-110 20" stiffness="20" armature="0.008"/>
                <geom name="right_thigh1" type="capsule" fromto="0 0 0 0 0.01 -0.34" size="0.06"/>
                <body name="right_shin" pos="0 0.01 -0.403">
                  <joint name="right_knee" axis="0 -1 0" pos="0 0 0.02" range="-160 -2" armature="0.006"/>
                  <geom name="right_shin1" type="capsule" fromto="0 0 0 0 0 -0.3" size="0.049"/>
                  <body name="right_foot" pos="0 0 -0.45">
                    <geom name="right_foot" type="sphere" pos="0 0 0.1" size="0.075"/>
                  </body>
                </body>
              </body>

              <!-- Left leg: mirrored hip axes x and z. -->
              <body name="left_thigh" pos="0 0.1 -0.04">
                <joint name="left_hip_x" class="hip" axis="-1 0 0" range="-25 5" stiffness="10"/>
                <joint name="left_hip_z" class="hip" axis="0 0 -1" range="-60 35" stiffness="10"/>
                <joint name="left_hip_y" class="hip" axis="0 1 0" range="-110 20" stiffness="20"/>
                <geom name="left_thigh1" type="capsule" fromto="0 0 0 0 -0.01 -0.34" size="0.06"/>
                <body name="left_shin" pos="0 -0.01 -0.403">
                  <joint name="left_knee" axis="0 -1 0" pos="0 0 0.02" range="-160 -2" armature="0.006" stiffness="1"/>
                  <geom name="left_shin1" type="capsule" fromto="0 0 0 0 0 -0.3" size="0.049"/>
                  <body name="left_foot" pos="0 0 -0.45">
                    <geom name="left_foot" type="sphere" pos="0 0 0.1" size="0.075"/>
                  </body>
                </body>
              </body>
            </body>
          </body>

          <!-- Right arm: two shoulder hinges, an elbow, a spherical hand. -->
          <body name="right_upper_arm" pos="0 -0.17 0.06">
            <joint name="right_shoulder1" axis="2 1 1" pos="0 0 0" range="-85 60" armature="0.0068" stiffness="1"/>
            <joint name="right_shoulder2" axis="0 -1 1" pos="0 0 0" range="-85 60" armature="0.0051" stiffness="1"/>
            <geom name="right_uarm1" type="capsule" fromto="0 0 0 0.16 -0.16 -0.16" size="0.04"/>
            <body name="right_lower_arm" pos="0.18 -0.18 -0.18">
              <joint name="right_elbow" axis="0 -1 1" pos="0 0 0" range="-90 50" armature="0.0028" stiffness="0"/>
              <geom name="right_larm" type="capsule" fromto="0.01 0.01 0.01 0.17 0.17 0.17" size="0.031"/>
              <geom name="right_hand" type="sphere" pos="0.18 0.18 0.18" size="0.04"/>
            </body>
          </body>

          <!-- Left arm, mirrored. -->
          <body name="left_upper_arm" pos="0 0.17 0.06">
            <joint name="left_shoulder1" axis="2 -1 1" pos="0 0 0" range="-60 85" armature="0.0068" stiffness="1"/>
            <joint name="left_shoulder2" axis="0 1 1" pos="0 0 0" range="-60 85" armature="0.0051" stiffness="1"/>
            <geom name="left_uarm1" type="capsule" fromto="0 0 0 0.16 0.16 -0.16" size="0.04"/>
            <body name="left_lower_arm" pos="0.18 0.18 -0.18">
              <joint name="left_elbow" axis="0 -1 -1" pos="0 0 0" range="-90 50" armature="0.0028" stiffness="0"/>
              <geom name="left_larm" type="capsule" fromto="0.01 -0.01 0.01 0.17 -0.17 0.17" size="0.031"/>
              <geom name="left_hand" type="sphere" pos="0.18 -0.18 0.18" size="0.04"/>
            </body>
          </body>
        </body>
      </worldbody>

      <tendon>
        <fixed name="left_hipknee">
          <joint joint="left_hip_y" coef="-1"/>
          <joint joint="left_knee" coef="1"/>
        </fixed>
        <fixed name="right_hipknee">
          <joint joint="right_hip_y" coef="-1"/>
          <joint joint="right_knee" coef="1"/>
        </fixed>
      </tendon>

      <actuator>
        <motor name="abdomen_y" joint="abdomen_y" gear="100"/>
        <motor name="abdomen_z" joint="abdomen_z" gear="100"/>
        <motor name="abdomen_x" joint="abdomen_x" gear="100"/>
        <motor name="right_hip_x" joint="right_hip_x" gear="100"/>
        <motor name="right_hip_z" joint="right_hip_z" gear="100"/>
        <motor name="right_hip_y" joint="right_hip_y" gear="300"/>
        <motor name="right_knee" joint="right_knee" gear="200"/>
        <motor name="left_hip_x" joint="left_hip_x" gear="100"/>
        <motor name="left_hip_z" joint="left_hip_z" gear="100"/>
        <motor name="left_hip_y" joint="left_hip_y" gear="300"/>
        <motor name="left_knee" joint="left_knee" gear="200"/>
        <motor name="right_shoulder1" joint="right_shoulder1" gear="25"/>
        <motor name="right_shoulder2" joint="right_shoulder2" gear="25"/>
        <motor name="right_elbow" joint="right_elbow" gear="25"/>
        <motor name="left_shoulder1" joint="left_shoulder1" gear="25"/>
        <motor name="left_shoulder2" joint="left_shoulder2" gear="25"/>
        <motor name="left_elbow" joint="left_elbow" gear="25"/>
      </actuator>
    </mujoco>
    """#
}
