/**
 * Disks named by an http:// or https:// URL. Their query strings carry secrets (an S3 presigned
 * URL's X-Amz-Signature, an Azure SAS token's sig=) and their userinfo a password, so what
 * gptdoctor shows of a URL, in messages, JSON and fix lines alike, is its scheme, host, port and
 * path only. The full URL is kept by the HTTP source alone, for its requests.
 */

/** True for the names openDisk reads over HTTP(S). */
export function isHttpUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/** Scheme, host, port and path of an http(s) URL: no userinfo, query or fragment. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return stripSecrets(url);
  }
}

/** How a disk argument is shown: a URL without its secrets, anything else as given. */
export function displayPath(arg: string): string {
  return isHttpUrl(arg) ? redactUrl(arg) : arg;
}

/** The last part of a URL's path ("disk.vhd" of https://host/vms/disk.vhd?sig=…), for naming a local copy. */
export function urlFileName(url: string): string {
  const path = redactUrl(url).replace(/^https?:\/\/[^/]*/i, '');
  const name = decodeURIComponentSafe(path.slice(path.lastIndexOf('/') + 1));
  return /^[^/\\\0]+$/.test(name) && name !== '.' && name !== '..' ? name : 'disk.img';
}

/**
 * `text` with every http(s) URL in it shown without userinfo, query or fragment: the last guard
 * of the CLI's error lines, for a message gptdoctor did not write itself (an internal error).
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/https?:\/\/[^\s"'<>]+/gi, stripSecrets);
}

/** Cuts userinfo and everything from the first `?` or `#`, without parsing (the text may not be a valid URL). */
function stripSecrets(url: string): string {
  return url.replace(/^(https?:\/\/)[^/?#]*@/i, '$1').replace(/[?#].*$/s, '');
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
