import Testing
@testable import Tensor

private let avx512 = CPUFeatures(avx2: true, fma: true, avx512: true)
private let avx2 = CPUFeatures(avx2: true, fma: true, avx512: false)
private let sse = CPUFeatures(avx2: false, fma: false, avx512: false)

// MARK: - Core choice

@Test func requestedCoreWins() {
    let choice = BLAS.chooseCore(BLASConfiguration(core: "Haswell"), environment: ["OPENBLAS_CORETYPE": "Prescott"],
                                 features: avx512)
    #expect(choice.core == "Haswell" && choice.source == .requested && choice.notes.isEmpty)
}

@Test func siteCoreIsRespectedWithANoteWhenABetterOneExists() {
    let choice = BLAS.chooseCore(BLASConfiguration(), environment: ["OPENBLAS_CORETYPE": "Haswell"], features: avx512)
    #expect(choice.core == "Haswell" && choice.source == .environment)
    #expect(choice.notes.count == 1 && choice.notes[0].contains("MEOW_BLAS_CORE=SkylakeX"))
    let same = BLAS.chooseCore(BLASConfiguration(), environment: ["OPENBLAS_CORETYPE": "Haswell"], features: avx2)
    #expect(same.notes.isEmpty)
}

@Test func cpuFeaturesPickTheKernel() {
    #expect(BLAS.chooseCore(BLASConfiguration(), environment: [:], features: avx512).core == "SkylakeX")
    #expect(BLAS.chooseCore(BLASConfiguration(), environment: [:], features: avx2).core == "Haswell")
    let fallback = BLAS.chooseCore(BLASConfiguration(), environment: [:], features: sse)
    #expect(fallback.core == nil && fallback.source == .autodetect)
}

@Test func configurationReadsTheEnvironment() {
    let config = BLASConfiguration.fromEnvironment(["MEOW_BLAS_CORE": "Zen", "MEOW_BLAS_THREADS": "2"])
    #expect(config.core == "Zen" && config.threads == 2)
    #expect(BLASConfiguration.fromEnvironment([:]) == BLASConfiguration())
}

// MARK: - Loading

@Test func loadIsIdempotentAndReportsTheKernel() {
    let first = BLAS.load()
    let second = BLAS.load(BLASConfiguration(core: "Prescott"))
    #expect(first == second)
    #expect(first.summary.hasPrefix("BLAS: "))
    if first.loaded {
        #expect(first.kernel != nil)
        #expect(first.summary.contains("kernel=\(first.kernel!)"))
        #expect(first.summary.contains("threads=\(first.threads)"))
    } else {
        #expect(first.warnings.contains { $0.contains("every GEMM uses the pure-Swift kernel") })
        #expect(first.logLines.contains { $0.hasPrefix("WARNING: ") && $0.contains("pure-Swift kernel") })
    }
}

@Test func summaryNamesTheFallback() {
    var info = BLASInfo(loaded: false, library: nil, version: nil, kernel: nil, requestedCore: nil,
                        coreSource: .autodetect, threads: 1, warnings: [], notes: [])
    #expect(info.summary.contains("pure-Swift"))
    info.loaded = true
    info.version = "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"
    info.kernel = "SkylakeX"
    info.coreSource = .cpuFeatures
    #expect(info.summary == "BLAS: OpenBLAS 0.3.21 kernel=SkylakeX threads=1 (core chosen from CPUID)")
}

@Test func datapathWidthFollowsHowAVX512Runs() {
    #expect(avx512.datapathBits == 512)
    #expect(CPUFeatures(avx2: true, fma: true, avx512: true, fullWidth512: false).datapathBits == 256)
    #expect(avx2.datapathBits == 256)
    #expect(sse.datapathBits == 128)
}
