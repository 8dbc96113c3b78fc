// WardenKernel
