// Types for the plain-JS fixture (shared with bench/); sshd.ts narrows them.
export declare const SSHD: string
export declare const sshdUnavailable: () => string | undefined
export declare const freePort: () => Promise<number>
export declare function startSshd(options?: object): Promise<any>
