/** Where the page is written, relative to the package root. */
export declare const PAGE_PATH: string;
/** Bundles the page (web/main.ts) and returns its HTML. */
export declare function buildPage(): Promise<string>;
/** Builds the page and writes it to {@link PAGE_PATH}; returns the path written. */
export declare function writePage(): Promise<string>;
