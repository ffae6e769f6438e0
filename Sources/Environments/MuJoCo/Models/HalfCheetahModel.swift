extension MuJoCoModels {
    /// The planar cheetah of gymnasium's `HalfCheetah-v4`, written for this project from the
    /// published physical parameters of the model gymnasium 0.29.1 ships (`half_cheetah.xml`).
    ///
    /// Compiled by MuJoCo it gives the same model as gymnasium's file (bodies, joints, geoms,
    /// masses, inertias, actuators, options); textures, materials, lights, the camera,
    /// colours, the custom stack size and the geoms' user data are left out.
    /// `tools/check_mujoco_models.py` compares the two.
    ///
    /// State: `qpos` = (rootx, rootz, rooty, bthigh, bshin, bfoot, fthigh, fshin, ffoot),
    /// `qvel` likewise (nq = nv = 9); six motors on the leg joints with gears 120, 90, 60
    /// (back) and 120, 60, 30 (front), control in [-1, 1]. Timestep 0.01 s, semi-implicit
    /// Euler (MuJoCo's default integrator).
    ///
    /// Unlike the hopper and walker, the cheetah's mass is not left to the geoms' density:
    /// the geoms' volumes only set the proportions, and the compiler rescales every body so
    /// that the total is 14 kg. Its leg joints are springs (stiffness 60 to 240) around the
    /// initial pose, and rootz has no reference offset (qpos[1] is the torso's vertical
    /// displacement from its initial height 0.7, not the height).
    public static let halfCheetah: String = #"""
    <mujoco model="cheetah">
      <!-- Angles in radians here. Masses from the geoms, then scaled to 14 kg in total. -->
      <compiler angle="radian" inertiafromgeom="true" settotalmass="14"/>
      <option timestep="0.01" gravity="0 0 -9.81"/>

      <default>
        <!-- Leg joints: limited, spring-loaded hinges about y (per-joint stiffness and
             damping below override these defaults); limits are soft (solreflimit,
             solimplimit). -->
        <joint type="hinge" axis="0 1 0" limited="true" armature="0.1" damping="0.01" stiffness="8"
               solreflimit="0.02 1" solimplimit="0 0.8 0.03"/>
        <!-- Body geoms touch the floor but not each other (type 1, affinity 0); 3-D
             friction 0.4 / 0.1 / 0.1; soft contacts. All are capsules of radius 0.046. -->
        <geom type="capsule" contype="1" conaffinity="0" condim="3" friction="0.4 0.1 0.1"
              solref="0.02 1" solimp="0 0.8 0.01"/>
        <motor ctrllimited="true" ctrlrange="-1 1"/>

        <!-- The torso's planar degrees of freedom are unconstrained and springless. -->
        <default class="planar_root">
          <joint limited="false" armature="0" damping="0" stiffness="0"/>
        </default>
      </default>

      <worldbody>
        <geom name="floor" type="plane" size="40 40 40" conaffinity="1"/>

        <body name="torso" pos="0 0 0.7">
          <joint name="rootx" class="planar_root" type="slide" axis="1 0 0" pos="0 0 0"/>
          <joint name="rootz" class="planar_root" type="slide" axis="0 0 1" pos="0 0 0"/>
          <joint name="rooty" class="planar_root" type="hinge" axis="0 1 0" pos="0 0 0"/>
          <!-- A 1 m spine along x, and the head tilted up at the front. -->
          <geom name="torso" fromto="-0.5 0 0 0.5 0 0" size="0.046"/>
          <geom name="head" pos="0.6 0 0.1" axisangle="0 1 0 0.87" size="0.046 0.15"/>

          <!-- Back leg: thigh, shin, foot. -->
          <body name="bthigh" pos="-0.5 0 0">
            <joint name="bthigh" pos="0 0 0" range="-0.52 1.05" stiffness="240" damping="6"/>
            <geom name="bthigh" pos="0.1 0 -0.13" axisangle="0 1 0 -3.8" size="0.046 0.145"/>
            <body name="bshin" pos="0.16 0 -0.25">
              <joint name="bshin" pos="0 0 0" range="-0.785 0.785" stiffness="180" damping="4.5"/>
              <geom name="bshin" pos="-0.14 0 -0.07" axisangle="0 1 0 -2.03" size="0.046 0.15"/>
              <body name="bfoot" pos="-0.28 0 -0.14">
                <joint name="bfoot" pos="0 0 0" range="-0.4 0.785" stiffness="120" damping="3"/>
                <geom name="bfoot" pos="0.03 0 -0.097" axisangle="0 1 0 -0.27" size="0.046 0.094"/>
              </body>
            </body>
          </body>

          <!-- Front leg: thigh, shin, foot. -->
          <body name="fthigh" pos="0.5 0 0">
            <joint name="fthigh" pos="0 0 0" range="-1 0.7" stiffness="180" damping="4.5"/>
            <geom name="fthigh" pos="-0.07 0 -0.12" axisangle="0 1 0 0.52" size="0.046 0.133"/>
            <body name="fshin" pos="-0.14 0 -0.24">
              <joint name="fshin" pos="0 0 0" range="-1.2 0.87" stiffness="120" damping="3"/>
              <geom name="fshin" pos="0.065 0 -0.09" axisangle="0 1 0 -0.6" size="0.046 0.106"/>
              <body name="ffoot" pos="0.13 0 -0.18">
                <joint name="ffoot" pos="0 0 0" range="-0.5 0.5" stiffness="60" damping="1.5"/>
                <geom name="ffoot" pos="0.045 0 -0.07" axisangle="0 1 0 -0.6" size="0.046 0.07"/>
              </body>
            </body>
          </body>
        </body>
      </worldbody>

      <actuator>
        <motor name="bthigh" joint="bthigh" gear="120"/>
        <motor name="bshin" joint="bshin" gear="90"/>
        <motor name="bfoot" joint="bfoot" gear="60"/>
        <motor name="fthigh" joint="fthigh" gear="120"/>
        <motor name="fshin" joint="fshin" gear="60"/>
        <motor name="ffoot" joint="ffoot" gear="30"/>
      </actuator>
    </mujoco>
    """#
}
