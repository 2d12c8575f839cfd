// The x86 AVX-512 VNNI instruction vpdpbusd on 512-bit (and 256-bit) vectors, for Intel's
// CPU runtime.
//
// The declaration binds vpdpbusd512 to the LLVM intrinsic of that name (an assembler label
// is the symbol the compiler emits; names starting "llvm." are LLVM's intrinsics), which the
// runtime's compiler turns into one `vpdpbusd zmm` instruction:
//     acc[l] += sum_{i<4} (uint)a.byte[4l+i] * (int)w.byte[4l+i]   for l < 16
// Where its compiler does not know the intrinsic, or the CPU lacks the instruction, the
// compiler aborts the whole process rather than failing the build: the host first builds
// and runs it in a child process (gpu_int8/scheduler/vnni_probe.py).

typedef char vnni_bytes64 __attribute__((ext_vector_type(64)));
int16 vpdpbusd512(int16 acc, vnni_bytes64 a, vnni_bytes64 w) __asm("llvm.x86.avx512.vpdpbusd.512");
#define VNNI(acc, a, w) vpdpbusd512(acc, __builtin_astype(a, vnni_bytes64), __builtin_astype(w, vnni_bytes64))

// The same on 8 lanes (256 bits, AVX-512 VL): for a last block of at most 8 output channels
typedef char vnni_bytes32 __attribute__((ext_vector_type(32)));
int8 vpdpbusd256(int8 acc, vnni_bytes32 a, vnni_bytes32 w) __asm("llvm.x86.avx512.vpdpbusd.256");
#define VNNI8(acc, a, w) vpdpbusd256(acc, __builtin_astype(a, vnni_bytes32), __builtin_astype(w, vnni_bytes32))
