/** A response body as loosely-typed JSON: tests assert on its shape rather than declaring it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();
