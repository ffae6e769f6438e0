import Foundation
import Testing

@testable import Environments

@Suite struct MuJoCoLoadingTests {
    /// Writes `text` to a fresh temporary file and returns its path.
    static func temporaryFile(_ text: String, name: String = "model.xml") throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("meow-mujoco-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    // MARK: - The library

    @Test func theLibraryIsMuJoCo222() throws {
        let library = try MuJoCoLibrary.shared()
        #expect(library.version == 222)
        #expect(library.versionString == "2.2.2")
    }

    @Test func aMissingLibraryNamesTheDebianPackage() {
        let result = MuJoCoLibrary.open(names: ["libmujoco-missing.so.9"])
        guard case let .failure(error) = result else {
            Issue.record("a missing library loaded")
            return
        }
        #expect(
            error.description
                == "MuJoCo could not be loaded (libmujoco-missing.so.9: cannot open shared object file)."
                + " Install Debian's libmujoco-dev: apt-get install libmujoco-dev")
    }

    // MARK: - Built-in models

    @Test(arguments: MuJoCoParityTests.tasks)
    func eachBuiltInModelLoadsWithTheRecordedSizes(name: String) throws {
        let fixture = try MuJoCoFixture.load(name)
        try MuJoCoParityTests.withTask(name) { task in
            let model = try task.builtInModel.get()
            #expect(model.nq == fixture.nq && model.nv == fixture.nv && model.nu == fixture.nu, "\(name)")
            #expect(task.sizes == (fixture.nq, fixture.nv, fixture.nu), "\(name)")
            #expect(model.timestep == fixture.timestep, "\(name)")
            #expect(task.frameSkip == fixture.frameSkip, "\(name)")
            #expect(model.timestep * Double(task.frameSkip) == fixture.dt, "\(name)")
        }
    }

    // MARK: - A user's model file

    @Test func aMissingModelFileGivesMuJoCosErrorAndThePath() {
        let path = "/nonexistent/meow/hopper-variant.xml"
        #expect {
            _ = try EnvironmentRegistry.makeEnvironment(name: "hopper", modelPath: path)
        } throws: { error in
            let text = (error as? EnvironmentError)?.description ?? ""
            return text.hasPrefix("the MuJoCo model \(path) could not be loaded: ")
                && text.contains("XML_ERROR_FILE_NOT_FOUND") && !text.contains("\n")
        }
    }

    @Test func aMalformedModelFileGivesMuJoCosError() throws {
        let path = try Self.temporaryFile("<mujoco><worldbody><body><geom type='sphere' size='x'/></body></worldbody></mujoco>")
        #expect {
            _ = try MuJoCoModel.load(path: path)
        } throws: { error in
            guard case let .modelLoadFailed(source, message) = error as? MuJoCoError else { return false }
            return source == path && !message.isEmpty
        }
    }

    @Test func aModelThatDoesNotFitTheTaskIsRefusedWithTheReason() throws {
        let path = try Self.temporaryFile(
            "<mujoco><worldbody><body pos='0 0 1'><joint type='slide' axis='1 0 0'/><geom size='0.1'/></body></worldbody></mujoco>")
        #expect {
            _ = try EnvironmentRegistry.makeEnvironment(name: "walker2d", modelPath: path)
        } throws: { error in
            (error as? EnvironmentError)?.description
                == "the MuJoCo model \(path) does not fit the walker2d task: it has nq=1, nv=1, nu=0, the task needs nq=9, nv=9, nu=6"
        }
    }

    @Test func anAntWithoutATorsoIsRefused() throws {
        let renamed = MuJoCoModels.ant.replacingOccurrences(of: "name=\"torso\"", with: "name=\"body\"")
        try #require(renamed != MuJoCoModels.ant)
        let model = try MuJoCoModel.load(xml: renamed, source: "a renamed ant")
        #expect(throws: MuJoCoError.modelMismatch(task: "ant", source: "a renamed ant", reason: "it has no body named 'torso'")) {
            _ = try Ant(model: model)
        }
    }

    @Test func aModelFileOfTheRightShapeBuildsTheTask() throws {
        let path = try Self.temporaryFile(MuJoCoModels.hopper)
        var environment = try EnvironmentRegistry.makeEnvironment(name: "Hopper-v4", modelPath: path)
        #expect(environment is Hopper)
        #expect(environment.reset(seed: 3).count == 11)
    }

    @Test func onlyMuJoCoTasksTakeAModelFile() {
        #expect(throws: EnvironmentError.modelPathNotSupported(name: "pendulum")) {
            _ = try EnvironmentRegistry.makeEnvironment(name: "pendulum", modelPath: "/tmp/x.xml")
        }
    }

    // MARK: - The registry

    @Test func theRegistryBuildsEveryTaskByNameAndGymnasiumID() throws {
        #expect(try EnvironmentRegistry.makeEnvironment(name: "hopper") is Hopper)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "Walker2d-v4") is Walker2d)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "halfcheetah") is HalfCheetah)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "Ant-v4") is Ant)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "humanoid") is Humanoid)
        for name in MuJoCoParityTests.tasks {
            let entry = try EnvironmentRegistry.entry(named: name)
            #expect(entry.maxEpisodeSteps == 1000 && entry.acceptsModelPath)
            #expect(try EnvironmentRegistry.makeEnvironment(name: name).maxEpisodeSteps == 1000)
        }
        #expect(try EnvironmentRegistry.makeUnitActionEnvironment(name: "humanoid", maxEpisodeSteps: 7).maxEpisodeSteps == 7)
    }
}
