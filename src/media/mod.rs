//! Media: RTP packets and the 20 ms pacer, G.711 codecs, DTMF detection, prompt audio.
//! Nothing here opens a file or a socket: the shell hands in bytes and sends what comes out.
